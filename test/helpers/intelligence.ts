/**
 * Shared set-up for Intelligence platform tests: a platform core over the memory store with a
 * movable clock, a REST caller, a fake Phoenix channel that records pushes, and AG-UI events as
 * CopilotKit's runner sends them (with `cpki_event_id` / `cpki_event_seq`).
 */
import { randomUUID } from "node:crypto";
import type { ChannelContext, ChannelHandler, JoinResult } from "../../src/intelligence/phoenix/types.js";
import { type IntelligencePlatformOptions, type PlatformCore, createPlatformCore } from "../../src/intelligence/platform-core.js";
import { MemoryIntelligenceStore } from "../../src/intelligence/store/index.js";

export const PROJECT = "7";
export const API_KEY = `cpk-${PROJECT}_test-secret-for-intelligence`;
export const OTHER_PROJECT_KEY = "cpk-8_another-project-secret";
export const TOKEN_SECRET = "test-token-secret-0123456789abcdef";

/** A clock tests move by hand. */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Logs collected instead of printed. */
export function quietLogger() {
  const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, msg, fields });
  return { lines, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

export interface TestCore extends PlatformCore {
  store: MemoryIntelligenceStore;
  clock: TestClock;
  /** Calls the REST API like CopilotKit's runtime (Bearer key, JSON). */
  api(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; json: any; text: string }>;
}

/** A platform core on a fresh memory store. */
export async function createTestCore(overrides: Partial<IntelligencePlatformOptions> = {}): Promise<TestCore> {
  const store = new MemoryIntelligenceStore();
  await store.migrate();
  const clock = new TestClock();
  const core = createPlatformCore({
    store,
    apiKeys: [API_KEY, OTHER_PROJECT_KEY],
    tokenSecret: TOKEN_SECRET,
    clientOrigins: [],
    clock: clock.now,
    logger: quietLogger(),
    ...overrides,
  });
  return {
    ...core,
    store,
    clock,
    async api(method, path, body, key = API_KEY) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (key !== null) headers.authorization = `Bearer ${key}`;
      const response = await core.rest(
        new Request(`http://platform.test${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}) }),
      );
      const text = await response.text();
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    },
  };
}

/** A recorded push of a fake channel, its payload parsed. */
export interface RecordedPush {
  event: string;
  payload: any;
  /** True when the payload was handed over pre-serialized (a string). */
  preSerialized: boolean;
}

/** A ChannelContext that records pushes; `join` runs a socket handler's join through it. */
export class FakeChannel<Assigns> implements ChannelContext<Assigns> {
  readonly pushes: RecordedPush[] = [];
  ended = false;
  closedWith: "close" | "error" | undefined;
  handler: ChannelHandler | undefined;
  readonly transport = "websocket" as const;
  readonly bufferedAmount = 0;
  readonly socketId = randomUUID();

  constructor(
    readonly topic: string,
    readonly assigns: Assigns,
  ) {}

  push(event: string, payload: unknown): boolean {
    if (this.ended) return false;
    this.pushes.push({ event, payload: typeof payload === "string" ? JSON.parse(payload) : payload, preSerialized: typeof payload === "string" });
    return true;
  }
  close(): void {
    this.closedWith = "close";
    this.end("server");
  }
  error(): void {
    this.closedWith = "error";
    this.end("server");
  }
  /** Ends the channel as a socket drop or leave would. */
  end(reason: "leave" | "closed" | "replaced" | "server" = "closed"): void {
    if (this.ended) return;
    this.ended = true;
    this.handler?.terminate(reason);
  }
  /** Sends a client push through the joined handler. */
  send(event: string, payload: unknown) {
    if (this.handler === undefined) throw new Error("not joined");
    return this.handler.handleIn(event, payload);
  }
  /** The AG-UI events pushed so far. */
  events(): any[] {
    return this.pushes.filter((p) => p.event === "ag_ui_event").map((p) => p.payload);
  }
  types(): string[] {
    return this.pushes.map((p) => (p.event === "ag_ui_event" ? p.payload.type : p.event));
  }
}

/** Joins `topic` through a socket handler's connect + join, like the Phoenix server would. */
export async function joinFake<Assigns>(
  handler: { join(topic: string, payload: Record<string, unknown>, channel: ChannelContext<Assigns>): Promise<JoinResult> | JoinResult },
  topic: string,
  assigns: Assigns,
  payload: Record<string, unknown> = {},
): Promise<{ channel: FakeChannel<Assigns>; result: JoinResult }> {
  const channel = new FakeChannel(topic, assigns);
  const result = await handler.join(topic, payload, channel);
  if (result.ok) channel.handler = result.handler;
  return { channel, result };
}

/** Builds runner-shaped events for one run: each gets ids, `metadata.cpki_event_id` and the next seq. */
export function runnerEvents(threadId: string, runId: string) {
  let seq = 0;
  const make = (event: Record<string, unknown> & { type: string }) => {
    seq++;
    return { ...event, threadId, runId, thread_id: threadId, run_id: runId, metadata: { cpki_event_id: randomUUID(), cpki_event_seq: seq } };
  };
  return {
    make,
    /** A whole text run: RUN_STARTED (with the user message) … RUN_FINISHED. */
    textRun(userText: string, reply: string) {
      const userId = `user-${randomUUID()}`;
      const replyId = `reply-${randomUUID()}`;
      return [
        make({ type: "RUN_STARTED", input: { threadId, runId, messages: [{ id: userId, role: "user", content: userText }], tools: [], context: [] } }),
        make({ type: "TEXT_MESSAGE_START", messageId: replyId, role: "assistant" }),
        make({ type: "TEXT_MESSAGE_CONTENT", messageId: replyId, delta: reply }),
        make({ type: "TEXT_MESSAGE_END", messageId: replyId }),
        make({ type: "RUN_FINISHED" }),
      ];
    },
  };
}

/** Waits until `check` passes (polling; never a timing assertion). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
