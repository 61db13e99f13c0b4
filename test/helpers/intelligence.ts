/**
 * Shared set-up for Intelligence platform tests: a platform core over the memory store with a
 * movable clock, a REST caller, a fake Phoenix channel that records pushes, and AG-UI events as
 * CopilotKit's runner sends them (with `cpki_event_id` / `cpki_event_seq`).
 */
import { randomUUID } from "node:crypto";
import type { ChannelContext, ChannelHandler, JoinResult } from "../../src/intelligence/phoenix/types.js";
import { type IntelligencePlatformOptions, type PlatformCore, createPlatformCore } from "../../src/intelligence/platform-core.js";
import { MemoryIntelligenceStore } from "../../src/intelligence/store/index.js";
import type { IntelligenceStore } from "../../src/intelligence/store/types.js";

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

/** A store backend the platform tests run on: memory always, SQLite always, PostgreSQL when reachable. */
export interface StoreUnderTest {
  name: string;
  /** A fresh, migrated, empty store (its own tables). */
  open(): Promise<IntelligenceStore>;
  /** Drops what the backend created for this test file. */
  cleanUp(): Promise<void>;
}

/**
 * The backends to run a platform suite on. PostgreSQL missing: skipped loudly (a failure with
 * CI=true), through `requirePostgres`.
 */
export async function storesUnderTest(suite: string): Promise<StoreUnderTest[]> {
  const { SqliteIntelligenceStore } = await import("../../src/intelligence/store/sqlite.js");
  const backends: StoreUnderTest[] = [
    { name: "memory", open: async () => migrated(new MemoryIntelligenceStore()), cleanUp: async () => {} },
    { name: "sqlite", open: async () => migrated(new SqliteIntelligenceStore()), cleanUp: async () => {} },
  ];
  const { dropSchema, findPostgres, requirePostgres, uniqueSchema } = await import("../runners/postgres-env.js");
  const url = await findPostgres();
  if (requirePostgres(url, `${suite} on PostgreSQL`)) {
    const schema = uniqueSchema();
    const { PostgresIntelligenceStore } = await import("../../src/intelligence/store/postgres.js");
    backends.push({
      name: "postgres",
      // A table prefix per store: every test starts on empty tables in the file's schema.
      open: async () => migrated(new PostgresIntelligenceStore({ connectionString: url, schema, tablePrefix: `t${randomUUID().slice(0, 8)}_`, maxConnections: 4 })),
      cleanUp: () => dropSchema(url, schema),
    });
  }
  return backends;
}

async function migrated<S extends IntelligenceStore>(store: S): Promise<S> {
  await store.migrate();
  return store;
}

export interface TestCore extends PlatformCore {
  store: IntelligenceStore;
  /** Closes the core and its store. */
  dispose(): Promise<void>;
  clock: TestClock;
  /** Calls the REST API like CopilotKit's runtime (Bearer key, JSON). */
  api(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; json: any; text: string }>;
}

/** A platform core on a fresh memory store. */
export async function createTestCore(overrides: Partial<IntelligencePlatformOptions> = {}): Promise<TestCore> {
  const store = overrides.store ?? (await migrated(new MemoryIntelligenceStore()));
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
  const closeCore = core.close;
  return {
    ...core,
    store,
    clock,
    async dispose() {
      closeCore();
      await store.close();
    },
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

// ---------------------------------------------------------------------------------------------
// End-to-end: our platform on a loopback port + CopilotKit's real 1.75 runtime + the real
// `phoenix` JS client (long-poll in Node 20, like CopilotKit's runner; WebSocket via `ws` when asked).

import { LongPoll, Socket } from "phoenix";
import { WebSocket as WsWebSocket } from "ws";
import type { AbstractAgent } from "@ag-ui/client";
import { type ServedIntelligencePlatform, serveIntelligencePlatform } from "../../src/intelligence/platform.js";
import { disableCopilotKitTelemetry } from "./runtimes.js";

export interface IntelligenceStack {
  platform: ServedIntelligencePlatform;
  /** CopilotKit's runtime (`/v2`) in Intelligence mode, as a fetch handler under `/api/copilotkit`. */
  runtimeFetch: (request: Request) => Promise<Response>;
  /** Calls the runtime like a browser of `user` (identifyUser reads `x-user`). */
  browser(method: string, path: string, body?: unknown, user?: string): Promise<{ status: number; json: any; text: string }>;
  close(): Promise<void>;
}

export interface IntelligenceStackOptions {
  agents: Record<string, AbstractAgent>;
  store?: IntelligenceStore;
  /** Passed to CopilotKit's runtime (e.g. `generateThreadNames: false`). */
  runtimeOptions?: Record<string, unknown>;
  /**
   * Builds the runtime handler; default CopilotKit's 1.75 `createCopilotRuntimeHandler` and
   * `CopilotRuntime` (h-runtime passes ours here).
   */
  createRuntime?: (options: { intelligence: unknown; agents: Record<string, AbstractAgent>; identifyUser: (request: Request) => { id: string; name: string } } & Record<string, unknown>) => Promise<(request: Request) => Promise<Response>>;
}

/** The real 1.75 runtime's handler over `intelligence`. */
export async function copilotKitIntelligenceRuntime(options: Record<string, unknown>): Promise<(request: Request) => Promise<Response>> {
  disableCopilotKitTelemetry();
  const v2: any = await import("@copilotkit/runtime/v2");
  const runtime = new v2.CopilotRuntime(options);
  return v2.createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" });
}

/**
 * Starts our platform (`serveIntelligencePlatform` on 127.0.0.1, memory store unless given) and
 * CopilotKit's runtime configured with `new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey })`.
 */
export async function startIntelligenceStack(options: IntelligenceStackOptions): Promise<IntelligenceStack> {
  const store = options.store ?? new MemoryIntelligenceStore();
  const platform = await serveIntelligencePlatform({ store, apiKeys: [API_KEY], tokenSecret: TOKEN_SECRET, logger: quietLogger(), sweepIntervalMs: 500 });
  disableCopilotKitTelemetry();
  const v2: any = await import("@copilotkit/runtime/v2");
  const intelligence = new v2.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: API_KEY });
  const identifyUser = (request: Request) => {
    const id = request.headers.get("x-user") ?? "alice";
    return { id, name: id };
  };
  const runtimeOptions = { intelligence, agents: options.agents, identifyUser, generateThreadNames: false, ...options.runtimeOptions };
  const runtimeFetch = await (options.createRuntime ?? copilotKitIntelligenceRuntime)(runtimeOptions);
  return {
    platform,
    runtimeFetch,
    async browser(method, path, body, user = "alice") {
      const response = await runtimeFetch(
        new Request(`http://runtime.test/api/copilotkit${path}`, {
          method,
          headers: { "content-type": "application/json", "x-user": user },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
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
    async close() {
      await platform.close();
    },
  };
}

/** A RunAgentInput a browser would post to `/agent/:id/run`. */
export function runInput(threadId: string, runId: string, userText: string, history: unknown[] = []) {
  return {
    threadId,
    runId,
    messages: [...history, { id: `msg-${runId}`, role: "user", content: userText }],
    tools: [],
    context: [],
    state: {},
    forwardedProps: {},
  };
}

export interface FollowedThread {
  /** The `ag_ui_event` payloads, in arrival order. */
  events: any[];
  /** Every message on the channel: `ag_ui_event` as its AG-UI type, control events by name. */
  sequence: string[];
  control: Array<{ event: string; payload: any }>;
  /** Resolves when the run ends (run mode) or on `stream_idle` (connect mode). */
  done: Promise<void>;
  join: Promise<unknown>;
  /** Successful joins so far (a rejoin after a reconnect counts again). */
  joinCount: number;
  socket: Socket;
  /** The phoenix `Channel` (to push `stop_run`, or listen for more events). */
  channel: ReturnType<Socket["channel"]>;
  leave(): void;
}

/**
 * Joins `thread:<id>` on the platform's `/client` socket with the real `phoenix` client, as
 * `@copilotkit/core` does: params `{join_token}`, run or connect mode.
 */
export function followThread(
  clientUrl: string,
  joinToken: string,
  topic: string,
  params: Record<string, unknown>,
  transport: "longpoll" | "websocket" = "longpoll",
): FollowedThread {
  const socket = new Socket(clientUrl, {
    params: { join_token: joinToken },
    transport: (transport === "websocket" ? WsWebSocket : LongPoll) as any,
    reconnectAfterMs: () => 100,
    rejoinAfterMs: () => 100,
  });
  socket.connect();
  const channel = socket.channel(topic, params);
  const followed: FollowedThread = { events: [], sequence: [], control: [], socket, channel, joinCount: 0 } as unknown as FollowedThread;
  followed.done = new Promise<void>((resolve) => {
    channel.on("ag_ui_event", (payload: any) => {
      followed.events.push(payload);
      followed.sequence.push(payload.type);
      if (params.stream_mode === "run" && (payload.type === "RUN_FINISHED" || payload.type === "RUN_ERROR")) resolve();
    });
    for (const event of ["replay_complete", "stream_idle", "replay_failed"]) {
      channel.on(event, (payload: any) => {
        followed.control.push({ event, payload });
        followed.sequence.push(event);
        if (event === "stream_idle") resolve();
      });
    }
  });
  followed.join = new Promise((resolve, reject) => {
    channel
      .join()
      .receive("ok", (response: unknown) => {
        followed.joinCount++;
        resolve(response);
      })
      .receive("error", (response: unknown) => reject(new Error(`join refused: ${JSON.stringify(response)}`)))
      .receive("timeout", () => reject(new Error("join timed out")));
  });
  followed.leave = () => {
    channel.leave();
    socket.disconnect();
  };
  return followed;
}
