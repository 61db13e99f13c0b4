/**
 * Deterministic AG-UI agents for tests. The runtime clones the registered agent for every
 * request, so anything a test wants to observe (inputs, forwarded headers, aborts) is written
 * to an `AgentRecorder` that every clone shares.
 *
 * @example
 * ```ts
 * const recorder = new AgentRecorder();
 * const agents = {
 *   default: new ScriptedAgent({ script: textReply("Hello there"), recorder }),
 *   long: new ScriptedAgent({ script: longReply(500), delayMs: 5, recorder }),
 * };
 * // ... after a request:
 * expect(recorder.runs[0].headers.authorization).toBe("Bearer t");
 * ```
 */
import { AbstractAgent, type BaseEvent, type RunAgentInput } from "@ag-ui/client";
import { Observable } from "rxjs";

/** An AG-UI event as a plain object (the agent emits exactly what the script says). */
export type ScriptEvent = { type: string } & Record<string, unknown>;

/** The events of one run, built from the request so ids can follow `threadId`/`runId`. */
export type Script = (input: RunAgentInput) => ScriptEvent[];

/** What one run of a recorded agent saw. */
export interface RecordedRun {
  agentId: string | undefined;
  input: RunAgentInput;
  /** `agent.headers` when `run()` was called: what the runtime forwarded to the agent. */
  headers: Record<string, string>;
  /** True once the runtime called `abortRun()` on this run's clone. */
  aborted: boolean;
}

/** Shared by an agent and all its clones. */
export class AgentRecorder {
  readonly runs: RecordedRun[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  record(run: RecordedRun): void {
    this.runs.push(run);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.runs.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves once at least `count` runs have started. */
  waitForRuns(count: number): Promise<void> {
    if (this.runs.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  get lastRun(): RecordedRun | undefined {
    return this.runs[this.runs.length - 1];
  }
}

export interface ScriptedAgentOptions {
  script: Script;
  /**
   * Pause before each event, in milliseconds. Default 2: streams are real, tests stay fast.
   * 0 emits the whole script synchronously on subscribe (until a `pauseUntil` step).
   */
  delayMs?: number;
  description?: string;
  /** Where every clone records its runs; one is created when omitted (see `agent.recorder`). */
  recorder?: AgentRecorder;
  /** Headers the server configured for this agent (they win over forwarded ones). */
  headers?: Record<string, string>;
}

/**
 * Emits its script one event at a time with a small pause, like a model streaming tokens.
 * It has a `headers` property, so the runtime forwards request headers to it (as it would to
 * an `HttpAgent`), and stops emitting when aborted or unsubscribed.
 */
export class ScriptedAgent extends AbstractAgent {
  headers: Record<string, string>;
  /** The runs of this agent and all its clones. */
  readonly recorder: AgentRecorder;
  private readonly options: ScriptedAgentOptions;
  private activeRun: RecordedRun | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ScriptedAgentOptions) {
    super({ description: options.description ?? "A scripted test agent." });
    this.recorder = options.recorder ?? new AgentRecorder();
    this.options = { ...options, recorder: this.recorder };
    this.headers = { ...(options.headers ?? {}) };
  }

  // Clones must be real ScriptedAgents: 0.0.4x's base clone() skips the subclass constructor.
  override clone(): ScriptedAgent {
    const copy = new ScriptedAgent(this.options);
    copy.agentId = this.agentId;
    copy.threadId = this.threadId;
    copy.headers = { ...this.headers };
    copy.setMessages(structuredClone(this.messages));
    copy.setState(structuredClone(this.state));
    return copy;
  }

  override abortRun(): void {
    if (this.activeRun) this.activeRun.aborted = true;
    clearTimeout(this.timer);
    super.abortRun();
  }

  run(input: RunAgentInput): Observable<BaseEvent> {
    const run: RecordedRun = { agentId: this.agentId, input, headers: { ...this.headers }, aborted: false };
    this.activeRun = run;
    this.recorder.record(run);
    const events = this.options.script(input);
    const delayMs = this.options.delayMs ?? 2;
    return new Observable<BaseEvent>((subscriber) => {
      let index = 0;
      const next = () => {
        if (run.aborted) return;
        if (index >= events.length) {
          subscriber.complete();
          return;
        }
        const event = events[index++];
        if (event.type === THROW) {
          subscriber.error(new Error(String(event.message)));
          return;
        }
        if (event.type === PAUSE) {
          (event.until as Promise<unknown>).then(() => {
            if (!closed) this.timer = setTimeout(next, delayMs);
          });
          return;
        }
        subscriber.next(event as unknown as BaseEvent);
        if (delayMs === 0) next();
        else this.timer = setTimeout(next, delayMs);
      };
      let closed = false;
      if (delayMs === 0) next();
      else this.timer = setTimeout(next, delayMs);
      return () => {
        closed = true;
        clearTimeout(this.timer);
      };
    });
  }
}

const THROW = "__SCRIPTED_AGENT_THROWS__";

/** A script step that makes the agent's observable error with `message` (an agent crash). */
export function agentThrows(message: string): ScriptEvent {
  return { type: THROW, message };
}

const PAUSE = "__SCRIPTED_AGENT_PAUSES__";

/**
 * A script step that holds the run (nothing more is emitted) until `until` settles: lets a
 * test act "while the agent is streaming" without racing a timer.
 */
export function pauseUntil(until: Promise<unknown>): ScriptEvent {
  return { type: PAUSE, until };
}

/** The id of the assistant message a script helper streams in a run: stable per run. */
export function replyMessageId(input: RunAgentInput): string {
  return `reply-${input.runId}`;
}

/** The deltas `textReply` and `longReply` stream: one word (with its leading space) each. */
export function words(text: string): string[] {
  return text.split(" ").map((word, i) => (i === 0 ? word : ` ${word}`));
}

/**
 * A complete, well-formed run that streams `text` word by word as one assistant message.
 * With `pauseAfterFirstWord`, the run holds after its first word until that promise settles.
 */
export function textReply(text: string | ((input: RunAgentInput) => string), options: { pauseAfterFirstWord?: () => Promise<unknown> } = {}): Script {
  return (input) => {
    const messageId = replyMessageId(input);
    const body = typeof text === "function" ? text(input) : text;
    const content: ScriptEvent[] = words(body).map((delta) => ({ type: "TEXT_MESSAGE_CONTENT", messageId, delta }));
    if (options.pauseAfterFirstWord) content.splice(1, 0, pauseUntil(options.pauseAfterFirstWord()));
    return [
      { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
      { type: "TEXT_MESSAGE_START", messageId, role: "assistant" },
      ...content,
      { type: "TEXT_MESSAGE_END", messageId },
      { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
    ];
  };
}

/** Echoes the last user message, so each run on a thread has a recognisable reply. */
export function echoReply(): Script {
  return textReply((input) => `You said: ${lastUserText(input)}`);
}

/** A reply of `wordCount` words (`w1 w2 ...`): with a few ms per event, long enough to stop. */
export function longReply(wordCount: number): Script {
  return textReply(Array.from({ length: wordCount }, (_, i) => `w${i + 1}`).join(" "));
}

/**
 * Calls the frontend tool `toolName` with `args` (the client runs it and follows up with a new
 * run holding the tool result); on that follow-up it answers with the tool's result as text.
 */
export function frontendToolCall(toolName: string, args: Record<string, unknown>): Script {
  return (input) => {
    const last = input.messages[input.messages.length - 1];
    if (last?.role === "tool") return textReply(`The tool said: ${String(last.content)}`)(input);
    const toolCallId = `call-${input.runId}`;
    return [
      { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
      { type: "TOOL_CALL_START", toolCallId, toolCallName: toolName, parentMessageId: replyMessageId(input) },
      { type: "TOOL_CALL_ARGS", toolCallId, delta: JSON.stringify(args) },
      { type: "TOOL_CALL_END", toolCallId },
      { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
    ];
  };
}

export function lastUserText(input: RunAgentInput): string {
  for (let i = input.messages.length - 1; i >= 0; i--) {
    const message = input.messages[i];
    if (message.role === "user") return typeof message.content === "string" ? message.content : JSON.stringify(message.content);
  }
  return "";
}

/** The smallest complete reply: "Hello from test" in two deltas, message id `m-<runId>`. */
export const helloScript: Script = (input) => [
  { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
  { type: "TEXT_MESSAGE_START", messageId: `m-${input.runId}`, role: "assistant" },
  { type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: "Hello " },
  { type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: "from test" },
  { type: "TEXT_MESSAGE_END", messageId: `m-${input.runId}` },
  { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
];

/** A reply of `words` deltas (`w0 `, `w1 `, …) under message id `m-<runId>`: long enough to stop. */
export function longScript(words = 200): Script {
  return (input) => [
    { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
    { type: "TEXT_MESSAGE_START", messageId: `m-${input.runId}`, role: "assistant" },
    ...Array.from({ length: words }, (_, i) => ({ type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: `w${i} ` })),
    { type: "TEXT_MESSAGE_END", messageId: `m-${input.runId}` },
    { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
  ];
}
