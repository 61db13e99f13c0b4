import { AbstractAgent, type BaseEvent, type RunAgentInput } from "@ag-ui/client";
import { Observable } from "rxjs";
import { CopilotRuntime, type CopilotRuntimeOptions } from "../../src/runtime.js";
import { createCopilotRuntimeHandler, type CopilotRuntimeHandlerOptions } from "../../src/http/handler.js";

type Script = (input: RunAgentInput) => Array<Record<string, unknown>>;

/**
 * An agent that emits a scripted list of events, `delayMs` apart (0: synchronously), and
 * remembers the headers and inputs it was run with.
 */
export class ScriptedAgent extends AbstractAgent {
  readonly seenHeaders: Array<Record<string, string>>;
  readonly seenInputs: RunAgentInput[];
  headers: Record<string, string> = {};

  constructor(
    readonly script: Script = helloScript,
    readonly delayMs = 0,
    shared?: { seenHeaders: Array<Record<string, string>>; seenInputs: RunAgentInput[] },
  ) {
    super({ description: "scripted test agent" });
    this.seenHeaders = shared?.seenHeaders ?? [];
    this.seenInputs = shared?.seenInputs ?? [];
  }

  override clone(): ScriptedAgent {
    const copy = new ScriptedAgent(this.script, this.delayMs, this);
    copy.headers = { ...this.headers };
    return copy;
  }

  run(input: RunAgentInput): Observable<BaseEvent> {
    this.seenHeaders.push({ ...this.headers });
    this.seenInputs.push(input);
    const events = this.script(input) as unknown as BaseEvent[];
    return new Observable<BaseEvent>((subscriber) => {
      if (this.delayMs === 0) {
        for (const event of events) subscriber.next(event);
        subscriber.complete();
        return;
      }
      let i = 0;
      const timer = setInterval(() => {
        if (i < events.length) subscriber.next(events[i++]);
        else {
          clearInterval(timer);
          subscriber.complete();
        }
      }, this.delayMs);
      return () => clearInterval(timer);
    });
  }
}

export const helloScript: Script = (input) => [
  { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
  { type: "TEXT_MESSAGE_START", messageId: `m-${input.runId}`, role: "assistant" },
  { type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: "Hello " },
  { type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: "from test" },
  { type: "TEXT_MESSAGE_END", messageId: `m-${input.runId}` },
  { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
];

/** A reply of `words` deltas and no end: long enough to stop. */
export function longScript(words = 200): Script {
  return (input) => [
    { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
    { type: "TEXT_MESSAGE_START", messageId: `m-${input.runId}`, role: "assistant" },
    ...Array.from({ length: words }, (_, i) => ({ type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: `w${i} ` })),
    { type: "TEXT_MESSAGE_END", messageId: `m-${input.runId}` },
    { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
  ];
}

export function runInput(overrides: Partial<RunAgentInput> & Record<string, unknown> = {}): Record<string, unknown> {
  return {
    threadId: "thread-1",
    runId: `run-${Math.random().toString(36).slice(2)}`,
    messages: [{ id: `u-${Math.random().toString(36).slice(2)}`, role: "user", content: "hi" }],
    tools: [],
    context: [],
    state: {},
    forwardedProps: {},
    ...overrides,
  };
}

export function makeHandler(
  runtimeOptions: Partial<CopilotRuntimeOptions> = {},
  handlerOptions: Partial<CopilotRuntimeHandlerOptions> = {},
) {
  const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent() }, ...runtimeOptions });
  const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit", ...handlerOptions });
  const url = (path: string) => `http://localhost/api/copilotkit${path}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    handler(
      new Request(url(path), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  const get = (path: string, headers: Record<string, string> = {}) => handler(new Request(url(path), { headers }));
  return { runtime, handler, url, post, get };
}

/** Reads an SSE body into its events (and comments), asserting `\n\n` framing. */
export async function readSse(response: Response): Promise<Array<Record<string, any>>> {
  const text = await response.text();
  return parseSse(text);
}

export function parseSse(text: string): Array<Record<string, any>> {
  if (text.includes("\r")) throw new Error("SSE body contains CR characters");
  return text
    .split("\n\n")
    .filter((frame) => frame.trim() !== "")
    .flatMap((frame) => {
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6));
      return data.length ? [JSON.parse(data.join("\n"))] : [];
    });
}

export function types(events: Array<Record<string, any>>): string[] {
  return events.map((event) => event.type);
}
