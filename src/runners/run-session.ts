import type { AgentLike, EventSubscribable } from "../events/agent-contract.js";
import { driveMode } from "../events/drive-mode.js";
import { RUN_ERRORS, runErrorEvent } from "../errors.js";
import { StreamState } from "../events/stream-state.js";
import { type AgentEvent, type RunInput, EventTypes as T } from "../events/types.js";
import { type Logger, isLevelEnabled, loggerForAgent } from "../logger.js";
import { recordRunEnd, recordRunStart } from "../observability/run-metrics.js";
import { endRunSpan, recordError, startRunSpans, type RunSpans } from "../observability/tracing.js";
import { context } from "@opentelemetry/api";

/** The session calls these as methods of the options object, so a class can implement them. */
export interface RunSessionOptions {
  agent: AgentLike;
  input: RunInput;
  /** Message ids the thread already holds; `RUN_STARTED.input.messages` carries only the new ones. */
  isKnownMessage?: (messageId: string) => boolean;
  onEvent: (event: AgentEvent) => void;
  onEnd: (outcome: RunOutcome) => void;
}

export type RunOutcome = "finished" | "stopped" | "failed";

/**
 * Runs one agent for one run and turns whatever it does into a well-formed AG-UI stream:
 * chunks expanded, `RUN_STARTED` enriched with the new input messages, and a run that ends
 * without a terminal event (completion, a throw, or a stop) closed properly. Shared by every
 * runner, so they differ only in where events go.
 */
export class RunSession {
  readonly state: StreamState;
  private subscription: { unsubscribe(): void } | undefined;
  private ended = false;
  private stopping = false;
  /** For the run metrics: when `start()` was called (undefined before), and the last `RUN_ERROR` code seen. */
  private startedAt: number | undefined;
  private errorCode: string | undefined;
  /** Events handed on, for the run's closing log line. */
  private events = 0;
  /** The request's logger when the HTTP layer started the run, else the process-wide one. */
  private readonly log: Logger;
  /** The run's trace spans (no-op ones without an OpenTelemetry SDK). */
  private spans: RunSpans | undefined;

  constructor(private readonly options: RunSessionOptions) {
    this.state = new StreamState(options.input.threadId, options.input.runId);
    this.log = loggerForAgent(options.agent);
  }

  /** Who the run's lines are about. */
  private ids(): { agentId: string | undefined; threadId: string; runId: string } {
    const { agent, input } = this.options;
    return { agentId: typeof agent.agentId === "string" ? agent.agentId : undefined, threadId: input.threadId, runId: input.runId };
  }

  get isEnded(): boolean {
    return this.ended;
  }

  start(): void {
    this.startedAt = recordRunStart();
    if (isLevelEnabled(this.log, "info")) this.log.info(this.ids(), "run started");
    const { agentId, threadId, runId } = this.ids();
    this.spans = startRunSpans(agentId, threadId, runId);
    // The agent runs in the agent span's context: its own spans, and the store writes its events
    // cause, nest under the run.
    context.with(this.spans.context, () => this.open());
  }

  private open(): void {
    let source: EventSubscribable;
    try {
      source = this.openSource();
    } catch (error) {
      this.fail(error);
      return;
    }
    // The session is the observer itself: a run allocates no closures.
    const subscription = source.subscribe(this);
    if (this.ended) subscription.unsubscribe();
    else this.subscription = subscription;
  }

  /** Ends the run now: the agent is aborted and the stream closes with `RUN_FINISHED`. */
  stop(): boolean {
    if (this.ended || this.stopping) return false;
    this.stopping = true;
    this.subscription?.unsubscribe();
    try {
      this.options.agent.abortRun?.();
    } catch (error) {
      this.log.warn({ ...this.ids(), err: error }, "agent.abortRun() threw; the run is closed anyway");
    }
    this.end("stopped");
    return true;
  }

  private openSource(): EventSubscribable {
    const { agent, input } = this.options;
    if (driveMode(agent) === "runAgent") return runThroughRunAgent(agent, input);
    if (typeof agent.run !== "function") throw new TypeError("the agent has neither run() nor runAgent()");
    const source = agent.run(input) as EventSubscribable | undefined;
    if (source === undefined || typeof source.subscribe !== "function") {
      throw new TypeError("agent.run() did not return an observable");
    }
    return source;
  }

  /**
   * The events that end a run whose agent broke the event order: the usual closing when the run
   * is still open; after `RUN_FINISHED`, a `RUN_ERROR` alone (the one event clients accept there);
   * after `RUN_ERROR`, nothing.
   */
  private invalidSequenceEnding(): AgentEvent[] {
    const state = this.state;
    if (!state.terminated) return state.finalize(INVALID_SEQUENCE);
    if (state.endedWithError) return [];
    return [runErrorEvent(RUN_ERRORS.invalidEventSequence)];
  }

  /** @internal The agent's observer: an event. */
  next(raw: AgentEvent): void {
    if (this.ended || raw === null || typeof raw !== "object" || typeof raw.type !== "string") return;
    const state = this.state;
    const events = state.accept(raw);
    for (let i = 0; i < events.length; i++) {
      let event = events[i];
      if (event.type === T.RUN_STARTED && event.input === undefined) event = this.enrichRunStarted(event);
      this.emit(event);
    }
    if (state.invalid !== undefined) this.rejectSequence(state.invalid);
  }

  /**
   * The agent broke AG-UI's event order. Streaming on would hand clients what their verifier
   * rejects (with an error that names no culprit), so the agent is aborted and the run ends
   * here with `RUN_ERROR` `INVALID_EVENT_SEQUENCE`, after closing whatever it left open.
   */
  private rejectSequence(problem: string): void {
    if (this.ended) return;
    this.log.warn({ ...this.ids(), problem }, `agent run ${this.options.input.runId} emitted an invalid event sequence (${problem}); the run ends with ${RUN_ERRORS.invalidEventSequence.code}`);
    this.subscription?.unsubscribe();
    try {
      this.options.agent.abortRun?.();
    } catch (error) {
      this.log.warn({ ...this.ids(), err: error }, "agent.abortRun() threw; the run is closed anyway");
    }
    this.end("invalid");
  }

  /** Hands an event on, counting it (and its `RUN_ERROR` code) for the run's closing line and metrics. */
  private emit(event: AgentEvent): void {
    if (event.type === T.RUN_ERROR) this.errorCode = typeof event.code === "string" ? event.code : "";
    this.events++;
    this.options.onEvent(event);
  }

  /**
   * `RUN_STARTED` with the run's input, its messages limited to the new ones. When every message
   * is new (the usual case) the event carries the input itself rather than a copy of it.
   */
  private enrichRunStarted(event: AgentEvent): AgentEvent {
    const options = this.options;
    const input = options.input;
    const messages = options.isKnownMessage === undefined ? input.messages : newMessages(options, input.messages);
    return { ...event, input: messages === input.messages ? input : { ...input, messages } };
  }

  /** @internal The agent's observer: the agent failed. */
  error(error: unknown): void {
    this.fail(error);
  }

  /** @internal The agent's observer: the agent completed. */
  complete(): void {
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.end(this.state.terminated ? "finished" : "incomplete");
  }

  private fail(error: unknown): void {
    if (this.ended) return;
    if (isSequenceError(error)) {
      // runAgent() verified the events itself and rejected: same fault, same ending.
      this.rejectSequence((error as Error).message);
      return;
    }
    this.log.error({ ...this.ids(), err: error }, `agent run ${this.options.input.runId} on thread ${this.options.input.threadId} failed`);
    if (this.spans !== undefined) recordError(this.spans.agent, error, RUN_ERRORS.agentError.message);
    this.end("error");
  }

  private end(kind: "stopped" | "incomplete" | "error" | "invalid" | "finished"): void {
    if (this.ended) return;
    this.ended = true;
    this.spans?.agent.end();
    const closing = kind === "finished" ? [] : kind === "invalid" ? this.invalidSequenceEnding() : this.state.finalize(kind === "error" ? AGENT_ERROR : { kind });
    for (const event of closing) this.emit(event);
    const outcome = kind === "stopped" ? "stopped" : this.errorCode !== undefined ? "error" : "finished";
    if (this.startedAt !== undefined) {
      if (isLevelEnabled(this.log, "info")) {
        const fields: Record<string, unknown> = {
          ...this.ids(),
          outcome,
          events: this.events,
          durationMs: Math.round((performance.now() - this.startedAt) * 10) / 10,
        };
        if (this.errorCode !== undefined) fields.code = this.errorCode;
        this.log.info(fields, "run ended");
      }
      recordRunEnd(this.startedAt, outcome, this.errorCode);
    }
    if (this.spans !== undefined) endRunSpan(this.spans.run, outcome, this.events, this.errorCode);
    this.options.onEnd(kind === "stopped" ? "stopped" : kind === "finished" ? "finished" : "failed");
  }
}

const AGENT_ERROR = { kind: "error", message: RUN_ERRORS.agentError.message, code: RUN_ERRORS.agentError.code } as const;
const INVALID_SEQUENCE = { kind: "error", message: RUN_ERRORS.invalidEventSequence.message, code: RUN_ERRORS.invalidEventSequence.code } as const;

/**
 * An error `runAgent()` rejects with when its own verifier refused an event: an `AGUIError`
 * (from whichever `@ag-ui/core` copy the agent uses, so matched by name) worded as an
 * ordering rule.
 */
function isSequenceError(error: unknown): boolean {
  if (!(error instanceof Error) || error.constructor?.name !== "AGUIError") return false;
  return /^(Cannot send|First event must be|Step ")/.test(error.message);
}

/** The messages the thread does not hold yet: `messages` itself when all are new. */
function newMessages(options: RunSessionOptions, messages: RunInput["messages"]): RunInput["messages"] {
  for (let i = 0; i < messages.length; i++) {
    if (!options.isKnownMessage!(messages[i].id)) continue;
    const fresh = messages.slice(0, i);
    for (let j = i + 1; j < messages.length; j++) if (!options.isKnownMessage!(messages[j].id)) fresh.push(messages[j]);
    return fresh;
  }
  return messages;
}

/**
 * Drives the agent the way CopilotKit does: `runAgent(input, { onEvent })`, its events handed on
 * as they come. The agent gets the whole run input (a duck-typed agent has no other way to learn
 * the thread and messages; `AbstractAgent` takes what it needs from it). `runAgent()` does not
 * return an observable, so this adapts it to one; unsubscribing stops the hand-on.
 */
function runThroughRunAgent(agent: AgentLike, input: RunInput): EventSubscribable {
  return {
    subscribe(observer) {
      let active = true;
      let running: Promise<unknown>;
      try {
        running = Promise.resolve(agent.runAgent!(input, { onEvent: ({ event }: { event: AgentEvent }) => active && observer.next(event) }));
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        () => active && observer.complete(),
        (error: unknown) => active && observer.error(error),
      );
      return {
        unsubscribe() {
          active = false;
        },
      };
    },
  };
}
