import { AbstractAgent as AgentV1, type BaseEvent, type Message, type RunAgentInput } from "@ag-ui/client";
import { AbstractAgent as AgentV0058 } from "ag-ui-client-0-0-58";
import { createRequire } from "node:module";
import { from, lastValueFrom, type Observable, toArray } from "rxjs";
import { expect, vi } from "vitest";

// 0.0.58's HttpAgent validates every event it parses with its core's EventSchemas, which an
// in-process runAgent() skips; load them from the core 0.0.58 depends on to apply the same check.
const requireFrom0058 = createRequire(createRequire(import.meta.url).resolve("ag-ui-client-0-0-58/package.json"));
const { EventSchemas: EventSchemas0058 } = requireFrom0058("@ag-ui/core") as {
  EventSchemas: { safeParse(value: unknown): { success: boolean; error?: unknown } };
};

/** What one client version made of a recorded event stream. */
export interface ClientReplay {
  version: string;
  failures: unknown[];
  /** ag-ui warnings (e.g. stripped unknown fields) and errors the client logged. */
  complaints: string[];
  messages: Message[];
  state: unknown;
}

class ReplayAgentV1 extends AgentV1 {
  constructor(private readonly events: BaseEvent[]) {
    super();
  }
  run(): Observable<BaseEvent> {
    return from(structuredClone(this.events));
  }
}

class ReplayAgentV0058 extends AgentV0058 {
  constructor(private readonly events: BaseEvent[]) {
    super();
  }
  run(): any {
    return from(structuredClone(this.events));
  }
}

/** Feeds recorded events through a client's full runAgent() pipeline (verification included). */
async function replay(version: string, agent: AgentV1 | AgentV0058, initial: Message[]): Promise<ClientReplay> {
  const failures: unknown[] = [];
  const complaints: string[] = [];
  const record = (...args: unknown[]) => complaints.push(args.map(String).join(" "));
  const warn = vi.spyOn(console, "warn").mockImplementation(record);
  const error = vi.spyOn(console, "error").mockImplementation(record);
  try {
    agent.messages = structuredClone(initial) as any;
    await (agent as AgentV1).runAgent({}, { onRunFailed: ({ error: failure }) => void failures.push(failure) });
  } catch (thrown) {
    failures.push(thrown);
  } finally {
    warn.mockRestore();
    error.mockRestore();
  }
  return { version, failures, complaints, messages: agent.messages as Message[], state: agent.state };
}

/** Replays the events through @ag-ui/client 1.0 and 0.0.58. */
export async function replayThroughClients(events: BaseEvent[], initial: Message[] = []): Promise<ClientReplay[]> {
  return [
    await replay("1.0.0", new ReplayAgentV1(events), initial),
    await replay("0.0.58", new ReplayAgentV0058(events), initial).then((result) => {
      for (const event of events) {
        const parsed = EventSchemas0058.safeParse(structuredClone(event));
        if (!parsed.success) result.failures.push(`${event.type}: ${String(parsed.error)}`);
      }
      return result;
    }),
  ];
}

/** Paths of null values in the events, outside application state (which may hold nulls). */
export function nullFields(events: BaseEvent[]): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null) found.push(path);
    else if (typeof value === "object") {
      for (const [key, child] of Object.entries(value as object)) {
        if (key === "snapshot" || (key === "delta" && Array.isArray(child))) continue;
        walk(child, `${path}.${key}`);
      }
    }
  };
  events.forEach((event, index) => walk(event, `[${index}]${event.type}`));
  return found;
}

/**
 * Asserts what every emitted stream must satisfy: no null fields, integer timestamps if any,
 * RUN_STARTED first, exactly one terminal event and it is last, and both client versions accept it
 * without failing or complaining. Returns the replays for further checks.
 */
export async function expectValidStream(events: BaseEvent[], initial: Message[] = []): Promise<ClientReplay[]> {
  expect(nullFields(events)).toEqual([]);
  for (const event of events) {
    if (event.timestamp !== undefined) expect(Number.isInteger(event.timestamp)).toBe(true);
  }
  expect(events[0]?.type).toBe("RUN_STARTED");
  const terminals = events.filter((event) => event.type === "RUN_FINISHED" || event.type === "RUN_ERROR");
  expect(terminals).toHaveLength(1);
  expect(events.at(-1)).toBe(terminals[0]);
  for (const event of events) {
    if ("delta" in event && typeof event.delta === "string") expect(event.delta).not.toBe("");
  }
  const replays = await replayThroughClients(events, initial);
  for (const result of replays) {
    expect({ version: result.version, failures: result.failures.map(String), complaints: result.complaints }).toEqual({
      version: result.version,
      failures: [],
      complaints: [],
    });
  }
  return replays;
}

/** An event whose fields tests may read without casting. */
export type AnyEvent = BaseEvent & Record<string, any>;

/** Subscribes to `agent.run(input)` and collects every event until it completes. */
export function collect(events$: Observable<BaseEvent>): Promise<AnyEvent[]> {
  return lastValueFrom(events$.pipe(toArray())) as Promise<AnyEvent[]>;
}

/** A RunAgentInput with defaults. */
export function makeInput(overrides: Partial<RunAgentInput> = {}): RunAgentInput {
  return {
    threadId: "thread-1",
    runId: `run-${Math.random().toString(36).slice(2, 8)}`,
    state: {},
    messages: [{ id: "user-1", role: "user", content: "Hello" }],
    tools: [],
    context: [],
    forwardedProps: {},
    ...overrides,
  };
}

export const types = (events: BaseEvent[]) => events.map((event) => event.type);
