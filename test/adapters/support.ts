/**
 * Helpers for the adapter suite: an agent whose run waits at a gate the test opens (so a test
 * can prove an event arrived while the run was still going, with no timing), and an
 * incremental SSE reader.
 */
import { AbstractAgent, type BaseEvent, type RunAgentInput } from "@ag-ui/client";
import { Observable } from "rxjs";

export type WireEvent = { type: string } & Record<string, any>;

/** Gates keyed by thread id, shared by an agent and all its clones. */
export class Gates {
  private readonly gates = new Map<string, { promise: Promise<void>; open: () => void }>();

  private entry(threadId: string) {
    let gate = this.gates.get(threadId);
    if (gate === undefined) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
      this.gates.set(threadId, gate);
    }
    return gate;
  }

  wait(threadId: string): Promise<void> {
    return this.entry(threadId).promise;
  }

  open(threadId: string): void {
    this.entry(threadId).open();
  }

  openAll(): void {
    for (const gate of this.gates.values()) gate.open();
  }
}

/**
 * Streams `echo:<last user text>`, then waits at its thread's gate, then streams ` done` and
 * finishes. A stopped run never gets past the gate.
 */
export class GatedAgent extends AbstractAgent {
  private stopped = false;

  constructor(readonly gates: Gates) {
    super({ description: "Waits at a gate the test opens." });
  }

  override clone(): GatedAgent {
    const copy = new GatedAgent(this.gates);
    copy.agentId = this.agentId;
    copy.threadId = this.threadId;
    copy.setMessages(structuredClone(this.messages));
    copy.setState(structuredClone(this.state));
    return copy;
  }

  override abortRun(): void {
    this.stopped = true;
    super.abortRun();
  }

  run(input: RunAgentInput): Observable<BaseEvent> {
    const messageId = `m-${input.runId}`;
    return new Observable<BaseEvent>((subscriber) => {
      const emit = (event: Record<string, unknown>) => subscriber.next(event as unknown as BaseEvent);
      emit({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
      emit({ type: "TEXT_MESSAGE_START", messageId, role: "assistant" });
      emit({ type: "TEXT_MESSAGE_CONTENT", messageId, delta: `echo:${lastUserText(input)}` });
      void this.gates.wait(input.threadId).then(() => {
        if (this.stopped || subscriber.closed) return;
        emit({ type: "TEXT_MESSAGE_CONTENT", messageId, delta: " done" });
        emit({ type: "TEXT_MESSAGE_END", messageId });
        emit({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
        subscriber.complete();
      });
    });
  }
}

function lastUserText(input: RunAgentInput): string {
  const message = [...input.messages].reverse().find((m) => m.role === "user");
  return typeof message?.content === "string" ? message.content : "";
}

/** A `RunAgentInput` body with one user message. */
export function runInput(threadId: string, text = "hi", runId = `run-${Math.random().toString(36).slice(2)}`): Record<string, unknown> {
  return {
    threadId,
    runId,
    state: {},
    messages: [{ id: `u-${runId}`, role: "user", content: text }],
    tools: [],
    context: [],
    forwardedProps: {},
  };
}

/** Reads an SSE body frame by frame, so a test can stop at a given event and read on later. */
export class SseReader {
  readonly events: WireEvent[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = "";
  done = false;

  constructor(response: Response) {
    if (response.body === null) throw new Error("the response has no body");
    this.reader = response.body.getReader();
  }

  /** Reads until an event matches (returns it) or the stream ends (throws). */
  async until(predicate: (event: WireEvent) => boolean, what = "the expected event"): Promise<WireEvent> {
    let checked = 0;
    for (;;) {
      for (; checked < this.events.length; checked++) if (predicate(this.events[checked])) return this.events[checked];
      if (this.done) throw new Error(`the stream ended before ${what}; got ${this.events.map((e) => e.type).join(", ")}`);
      await this.readMore();
    }
  }

  /** Reads to the end of the stream and returns every event. */
  async rest(): Promise<WireEvent[]> {
    while (!this.done) await this.readMore();
    return this.events;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }

  private async readMore(): Promise<void> {
    const { done, value } = await this.reader.read();
    if (done) {
      this.done = true;
      this.buffer += this.decoder.decode();
    } else {
      this.buffer += this.decoder.decode(value, { stream: true });
    }
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) !== -1) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data !== "") this.events.push(JSON.parse(data) as WireEvent);
    }
  }
}
