/**
 * Helpers for the adapter suite: an agent whose run waits at a gate the test opens (so a test
 * can prove an event arrived while the run was still going, with no timing), and an
 * incremental SSE reader.
 */
import { AbstractAgent, type BaseEvent, type RunAgentInput } from "@ag-ui/client";
import { Observable } from "rxjs";
import { runInput, uid } from "../helpers/inputs.js";
export { SseReader } from "../helpers/sse.js";

export type { WireEvent } from "../helpers/sse.js";
import type { WireEvent } from "../helpers/sse.js";

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

/** A `RunAgentInput` body whose one user message says `text`. */
export function userRunInput(threadId: string, text = "hi", runId = uid("run")): Record<string, unknown> {
  return runInput({ threadId, runId, messages: [{ id: `u-${runId}`, role: "user", content: text }] });
}

