/**
 * Helpers for the runner suite: an agent the test drives event by event (no timers, so live
 * and resume tests are deterministic) and an HTTP client over the web-standard handler. SSE
 * parsing and input builders are in ../helpers/.
 */
import { AbstractAgent, type BaseEvent, type RunAgentInput, verifyEvents } from "@ag-ui/client";
import { Observable, type Subscriber, from, lastValueFrom, toArray } from "rxjs";
import { createCopilotRuntimeHandler } from "../../src/http/handler.js";
import { CopilotRuntime } from "../../src/runtime.js";
import type { AgentRunner } from "../../src/runners/agent-runner.js";
import type { AgentLike } from "../../src/events/agent-contract.js";
import { type SseFrame, readSseFrames } from "../helpers/sse.js";
import { runBody } from "../helpers/inputs.js";

export type Ev = { type: string } & Record<string, any>;

/** One run of a `ControlledAgent`: the test emits its events. */
export class RunHandle {
  aborted = false;
  closed = false;
  readonly messageId: string;
  constructor(
    readonly input: RunAgentInput,
    private readonly subscriber: Subscriber<BaseEvent>,
  ) {
    this.messageId = `reply-${input.runId}`;
  }
  emit(event: Ev): void {
    if (!this.closed) this.subscriber.next(event as unknown as BaseEvent);
  }
  started(): this {
    this.emit({ type: "RUN_STARTED", threadId: this.input.threadId, runId: this.input.runId });
    return this;
  }
  textStart(): this {
    this.emit({ type: "TEXT_MESSAGE_START", messageId: this.messageId, role: "assistant" });
    return this;
  }
  text(delta: string): this {
    this.emit({ type: "TEXT_MESSAGE_CONTENT", messageId: this.messageId, delta });
    return this;
  }
  textEnd(): this {
    this.emit({ type: "TEXT_MESSAGE_END", messageId: this.messageId });
    return this;
  }
  finish(): void {
    this.emit({ type: "RUN_FINISHED", threadId: this.input.threadId, runId: this.input.runId });
    this.subscriber.complete();
  }
  /** A whole reply: start, each delta, end, finish. */
  reply(deltas: string[]): void {
    this.started().textStart();
    for (const delta of deltas) this.text(delta);
    this.textEnd().finish();
  }
}

/** Shared by a `ControlledAgent` and all its per-request clones. */
export class AgentControl {
  readonly runs: RunHandle[] = [];
  private waiters: Array<(run: RunHandle) => void> = [];
  /** When set, every run replies at once with this script instead of waiting for the test. */
  constructor(readonly autoReply?: (input: RunAgentInput) => string[]) {}
  add(run: RunHandle): void {
    this.runs.push(run);
    const waiter = this.waiters.shift();
    if (waiter) waiter(run);
  }
  /** The next run to start (or the latest one not yet taken). */
  nextRun(): Promise<RunHandle> {
    const index = this.taken++;
    if (index < this.runs.length) return Promise.resolve(this.runs[index]);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  private taken = 0;
}

/** An AG-UI agent that emits exactly what the test tells it to, when it tells it to. */
export class ControlledAgent extends AbstractAgent {
  private current: RunHandle | undefined;
  constructor(readonly control: AgentControl) {
    super({ description: "controlled test agent" });
  }
  override clone(): ControlledAgent {
    return new ControlledAgent(this.control);
  }
  override abortRun(): void {
    if (this.current) this.current.aborted = true;
  }
  run(input: RunAgentInput): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => {
      const handle = new RunHandle(input, subscriber);
      this.current = handle;
      const auto = this.control.autoReply;
      if (auto) {
        queueMicrotask(() => handle.reply(auto(input)));
        this.control.runs.push(handle);
      } else {
        this.control.add(handle);
      }
      return () => {
        handle.closed = true;
      };
    });
  }
}

/**
 * A duck-typed agent: no AbstractAgent, no `run()`, only `clone()` and `runAgent(input, { onEvent })`
 * (CopilotKit's contract). It answers "<word>: <last user text>".
 */
export function duckTypedAgent(word: string) {
  return {
    description: "duck-typed agent",
    clone() {
      return duckTypedAgent(word);
    },
    async runAgent(input: RunAgentInput, subscriber: { onEvent?: (params: { event: BaseEvent }) => void }) {
      const last = [...input.messages].reverse().find((m) => m.role === "user");
      const messageId = `duck-${input.runId}`;
      const events: Ev[] = [
        { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
        { type: "TEXT_MESSAGE_START", messageId, role: "assistant" },
        { type: "TEXT_MESSAGE_CONTENT", messageId, delta: `${word}: ${typeof last?.content === "string" ? last.content : ""}` },
        { type: "TEXT_MESSAGE_END", messageId },
        { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
      ];
      for (const event of events) {
        await Promise.resolve();
        subscriber.onEvent?.({ event: event as unknown as BaseEvent });
      }
      return { newMessages: [] };
    },
  };
}

/** An AbstractAgent whose class overrides runAgent(): what its run() says depends on the override having run. */
export class OverridingAgent extends AbstractAgent {
  private via = "via run";
  /** `ghostContent`: the reply's content goes to a message never started (an invalid sequence). */
  constructor(private readonly options: { ghostContent?: boolean } = {}) {
    super({ description: "overrides runAgent" });
  }
  override clone(): OverridingAgent {
    return new OverridingAgent(this.options);
  }
  override runAgent(...args: Parameters<AbstractAgent["runAgent"]>): ReturnType<AbstractAgent["runAgent"]> {
    this.via = "via runAgent";
    return super.runAgent(...args);
  }
  run(input: RunAgentInput): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => {
      const messageId = `custom-${input.runId}`;
      const events: Ev[] = [
        { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
        { type: "TEXT_MESSAGE_START", messageId, role: "assistant" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: this.options.ghostContent ? "ghost" : messageId, delta: this.via },
        { type: "TEXT_MESSAGE_END", messageId },
        { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
      ];
      for (const event of events) subscriber.next(event as unknown as BaseEvent);
      subscriber.complete();
    });
  }
}

/** The events after AG-UI's own verifier (`@ag-ui/client` 1.0): rejects as a client would. */
export function verified(events: Ev[]): Promise<Ev[]> {
  return lastValueFrom(from(events as unknown as BaseEvent[]).pipe(verifyEvents(), toArray())) as unknown as Promise<Ev[]>;
}

/** A runtime over `runner` with user identity from the `x-user` header, driven through its fetch handler. */
export function httpClient(runner: AgentRunner, agents: Record<string, AgentLike>) {
  const runtime = new CopilotRuntime({
    runner,
    agents,
    identifyUser: (request) => ({ id: request.headers.get("x-user") ?? "alice" }),
  });
  const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" });
  const url = (path: string) => `http://localhost/api/copilotkit${path}`;
  const send = (method: string, path: string, options: { user?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    handler(
      new Request(url(path), {
        method,
        headers: { "content-type": "application/json", "x-user": options.user ?? "alice", ...options.headers },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      }),
    );
  return {
    handler,
    send,
    get: (path: string, user?: string) => send("GET", path, { user }),
    run: (threadId: string, options: { user?: string; agent?: string; text?: string; runId?: string; messages?: Array<Record<string, unknown>> } = {}) =>
      send("POST", `/agent/${options.agent ?? "default"}/run`, { user: options.user, body: runBody(threadId, options) }),
    connect: (threadId: string, options: { user?: string; agent?: string; lastEventId?: string | number; lastSeenEventId?: string | number } = {}) =>
      send("POST", `/agent/${options.agent ?? "default"}/connect`, {
        user: options.user,
        body: { ...runBody(threadId, { messages: [] }), ...(options.lastSeenEventId !== undefined ? { lastSeenEventId: options.lastSeenEventId } : {}) },
        headers: options.lastEventId !== undefined ? { "last-event-id": String(options.lastEventId) } : {},
      }),
    stop: (threadId: string, options: { user?: string; agent?: string; runId?: string } = {}) =>
      send("POST", `/agent/${options.agent ?? "default"}/stop/${threadId}`, {
        user: options.user,
        body: options.runId === undefined ? {} : { runId: options.runId },
      }),
  };
}

/** The text of each assistant message, in order, rebuilt from events (deltas concatenated). */
export function replyTexts(events: Ev[]): string[] {
  const texts = new Map<string, string>();
  for (const event of events) {
    if (event.type === "TEXT_MESSAGE_START") texts.set(event.messageId, texts.get(event.messageId) ?? "");
    if (event.type === "TEXT_MESSAGE_CONTENT") texts.set(event.messageId, (texts.get(event.messageId) ?? "") + event.delta);
  }
  return [...texts.values()];
}

export const types = (events: Ev[]) => events.map((e) => e.type);
export const eventsOf = (frames: SseFrame[]) => frames.map((f) => f.event);

export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
