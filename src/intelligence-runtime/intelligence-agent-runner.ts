import type { BaseEvent } from "@ag-ui/core";
import { Observable, type Subscriber } from "rxjs";
import { type AgentEvent, type AgentMessage, EventTypes as T } from "../events/types.js";
import { loggerForAgent, logger } from "../logger.js";
import {
  AgentRunner,
  type AgentRunnerConnectRequest,
  type AgentRunnerIsRunningRequest,
  type AgentRunnerRunRequest,
  type AgentRunnerStopRequest,
} from "../runners/agent-runner.js";
import { RunSession } from "../runners/run-session.js";
import { type PhoenixChannel, type PhoenixSocket, defaultWebSocket, exponentialBackoff, loadPhoenix } from "./phoenix-client.js";
import { DURABILITY_DEADLINE_MS, RUNNER_EVENT_BATCH_CAPABILITY, RunnerEventOutbox } from "./runner-event-outbox.js";

/** Consecutive socket errors before the first join that end the run's start-up (1.75's count). */
const MAX_SOCKET_ERRORS_BEFORE_JOIN = 5;
/** The platform's stop signal for a run: `{ type: "CUSTOM", name: "stop" }` on this event. */
const AG_UI_CHANNEL_EVENT = "ag-ui";

export interface IntelligenceAgentRunnerOptions {
  /** The platform's runner socket, e.g. `wss://realtime.example.com/runner`. */
  url: string;
  /** The Phoenix `authToken` (the project API key). */
  authToken?: string;
  /** Cap of the socket's reconnect backoff (100 ms doubling). Default 10 s. */
  maxReconnectMs?: number;
  /** Cap of the channel's rejoin backoff (1 s doubling). Default 30 s. */
  maxRejoinMs?: number;
  /**
   * The socket transport: a WebSocket class, or `"longpoll"`. Default: the global `WebSocket`,
   * else the `ws` package's, else long-poll. (CopilotKit's runner uses long-poll on Node 20.)
   */
  transport?: unknown;
}

/** A run request as the Intelligence `/run` route makes it. */
export interface IntelligenceRunRequest extends AgentRunnerRunRequest {
  /** The input messages the thread's history lacks: they become `RUN_STARTED.input.messages`. Default: all. */
  persistedInputMessages?: AgentMessage[];
  /** A token for this run's socket instead of the runner's `authToken`. */
  authToken?: string;
}

/** A run whose start (the first channel join) can be awaited apart from its events. */
export interface RunnerStartupBoundary {
  events: Observable<BaseEvent>;
  /** Resolves once the platform accepted the run's channel join; rejects when it never will. */
  startup: Promise<void>;
}

/**
 * Runs agents for an Intelligence platform (CopilotKit's `IntelligenceAgentRunner`): each run
 * opens its own Phoenix socket to the platform's runner plane, joins `ingestion:<runId>`, and
 * delivers the run's events there, each stamped with `metadata.cpki_event_id` / `cpki_event_seq`,
 * in batches the platform acknowledges once they are durable. The agent starts when the join
 * succeeds; the run ends when every event is acknowledged. Browsers read the run from the
 * platform, not from this process. `CopilotRuntime({ intelligence })` creates one.
 *
 * @example
 * ```ts
 * const runner = new IntelligenceAgentRunner({ url: "wss://realtime.example.com/runner", authToken: apiKey });
 * const { events, startup } = runner.runWithStartupBoundary({ threadId, agent, input });
 * events.subscribe({ next: (e) => console.log(e.type) });
 * await startup; // the platform accepted the run
 * ```
 */
export class IntelligenceAgentRunner extends AgentRunner {
  private readonly runs = new Map<string, IntelligenceRun>();

  constructor(private readonly options: IntelligenceAgentRunnerOptions) {
    super();
    if (options === null || typeof options !== "object" || typeof options.url !== "string" || options.url === "") {
      throw new TypeError("IntelligenceAgentRunner needs `url`, the platform's runner socket.");
    }
  }

  run(request: IntelligenceRunRequest): Observable<BaseEvent> {
    return this.runWithStartupBoundary(request).events;
  }

  /** {@link run}, with a promise that settles when the platform accepts (or refuses) the run's join. */
  runWithStartupBoundary(request: IntelligenceRunRequest): RunnerStartupBoundary {
    if (this.runs.get(request.threadId)?.active) throw new Error("Thread already running");
    let settle!: { resolve: () => void; reject: (error: Error) => void };
    const startup = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // An unobserved start-up failure is also reported through the events: no unhandled rejection.
    startup.catch(() => undefined);
    const events = new Observable<BaseEvent>((subscriber) => {
      if (this.runs.get(request.threadId)?.active) {
        const error = new Error("Thread already running");
        settle.reject(error);
        subscriber.error(error);
        return;
      }
      const run = new IntelligenceRun(this.options, request, subscriber, settle, () => {
        if (this.runs.get(request.threadId) === run) this.runs.delete(request.threadId);
      });
      this.runs.set(request.threadId, run);
      void run.start();
      // Unsubscribing only detaches the reader: the run still delivers to the platform.
      return () => run.detach();
    });
    return { events, startup };
  }

  /**
   * Follows a thread's live events from the platform's `thread:<threadId>` topic (1.75 has it;
   * no HTTP route calls it). Completes on the first terminal event.
   */
  connect(request: AgentRunnerConnectRequest): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => {
      let socket: PhoenixSocket | undefined;
      let closed = false;
      const cleanup = () => {
        closed = true;
        socket?.disconnect();
      };
      void (async () => {
        const phoenix = await loadPhoenix();
        if (closed) return;
        const transport = await resolveTransport(this.options.transport, phoenix.LongPoll);
        socket = new phoenix.Socket(this.options.url, { ...(this.options.authToken ? { authToken: this.options.authToken } : {}), ...(transport ? { transport } : {}) });
        socket.connect();
        const channel = socket.channel(`thread:${request.threadId}`);
        channel.on("ag_ui_event", (payload: BaseEvent) => {
          subscriber.next(payload);
          if (payload.type === T.RUN_FINISHED || payload.type === T.RUN_ERROR) {
            subscriber.complete();
            cleanup();
          }
        });
        channel
          .join()
          .receive("error", (response) => {
            subscriber.error(new Error(`Failed to join channel: ${JSON.stringify(response)}`));
            cleanup();
          })
          .receive("timeout", () => {
            subscriber.error(new Error("Timed out joining channel"));
            cleanup();
          });
      })().catch((error: unknown) => subscriber.error(error));
      return cleanup;
    });
  }

  async isRunning(request: AgentRunnerIsRunningRequest): Promise<boolean> {
    return this.runs.get(request.threadId)?.active ?? false;
  }

  /**
   * Stops this process's run of the thread (only `runId`, when given): the agent is fenced and
   * aborted, the run closes with `RUN_FINISHED`, and the promise resolves once that is durable.
   */
  stop(request: AgentRunnerStopRequest): Promise<boolean | undefined> {
    const run = this.runs.get(request.threadId);
    if (run === undefined || !run.active || run.stopRequested) return Promise.resolve(false);
    if (request.runId !== undefined && request.runId !== run.runId) return Promise.resolve(false);
    return run.stop();
  }
}

/** One run: its socket, channel, outbox and agent session. */
class IntelligenceRun {
  readonly runId: string;
  readonly threadId: string;
  active = true;
  stopRequested = false;
  private socket?: PhoenixSocket;
  private channel?: PhoenixChannel;
  private session?: RunSession;
  private readonly outbox: RunnerEventOutbox;
  private joined = false;
  private producerFinished = false;
  private nextSeq = 1;
  private socketErrors = 0;
  private plannedRestart = false;
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private stopTimer: ReturnType<typeof setTimeout> | null = null;
  private reader: Subscriber<BaseEvent> | undefined;
  private readonly completion: Promise<boolean>;
  private resolveCompletion!: (completed: boolean) => void;
  private readonly freshMessages: AgentMessage[] | undefined;

  constructor(
    private readonly options: IntelligenceAgentRunnerOptions,
    private readonly request: IntelligenceRunRequest,
    subscriber: Subscriber<BaseEvent>,
    private readonly startup: { resolve: () => void; reject: (error: Error) => void },
    private readonly onRemoved: () => void,
  ) {
    this.runId = request.input.runId;
    this.threadId = request.threadId;
    this.reader = subscriber;
    this.freshMessages = request.persistedInputMessages;
    this.completion = new Promise((resolve) => (this.resolveCompletion = resolve));
    this.outbox = new RunnerEventOutbox(
      { canPush: () => this.channel?.state === "joined" && this.socket?.isConnected() === true, push: (event, payload) => this.channel!.push(event, payload) },
      { onDrained: () => this.finishIfDelivered(), onFailed: (error) => this.fail(error) },
    );
  }

  async start(): Promise<void> {
    let phoenix;
    let transport;
    try {
      phoenix = await loadPhoenix();
      transport = await resolveTransport(this.options.transport, phoenix.LongPoll);
    } catch (error) {
      this.failStartup(error instanceof Error ? error : new Error(String(error)), "CHANNEL_JOIN_ERROR");
      return;
    }
    if (!this.active) return;
    const authToken = this.request.authToken ?? this.options.authToken;
    const socket = new phoenix.Socket(this.options.url, {
      ...(authToken ? { authToken } : {}),
      ...(transport ? { transport } : {}),
      reconnectAfterMs: exponentialBackoff(100, this.options.maxReconnectMs ?? 10_000),
      rejoinAfterMs: exponentialBackoff(1_000, this.options.maxRejoinMs ?? 30_000),
    });
    this.socket = socket;
    socket.onOpen(() => {
      this.clearWatchdog();
      this.socketErrors = 0;
      this.plannedRestart = false;
    });
    socket.onClose((event) => this.socketClosed(event?.code));
    socket.onError(() => this.socketFailed());
    socket.connect();

    const channel = socket.channel(`ingestion:${this.runId}`, { thread_id: this.threadId, run_id: this.runId });
    this.channel = channel;
    channel.on(AG_UI_CHANNEL_EVENT, (payload: { type?: unknown; name?: unknown } | undefined) => {
      if (payload?.type === "CUSTOM" && payload.name === "stop") {
        this.stop().catch((error: unknown) => logger.error({ err: error, threadId: this.threadId, runId: this.runId }, "Failed to stop Intelligence run"));
      }
    });
    channel
      .join()
      .receive("ok", (response) => this.joinAccepted(response))
      .receive("error", (response) => this.joinRefused(response))
      .receive("timeout", () => {
        if (!this.joined) this.failStartup(new Error("Timed out joining channel"), "CHANNEL_JOIN_TIMEOUT");
      });
  }

  /** Stops reading: events still go to the platform. */
  detach(): void {
    this.reader = undefined;
  }

  stop(): Promise<boolean> {
    if (!this.active || this.stopRequested) return Promise.resolve(false);
    this.stopRequested = true;
    this.stopTimer = setTimeout(() => this.fail(new Error("Timed out stopping Intelligence run")), DURABILITY_DEADLINE_MS);
    if (this.session !== undefined) {
      // Fences the agent's output, aborts it, and queues the closers and RUN_FINISHED.
      this.session.stop();
      detachAgent(this.request.agent, this);
    }
    // Before the join the agent has not started: joinAccepted closes the run at once.
    return this.completion.then((completed) => {
      if (!completed) throw new Error("Intelligence run stopped before terminal events were acknowledged");
      return true;
    });
  }

  private joinAccepted(response: unknown): void {
    if (!this.active) return;
    const capabilities = (response as { capabilities?: unknown } | undefined)?.capabilities;
    this.outbox.setBatching(Array.isArray(capabilities) && capabilities.includes(RUNNER_EVENT_BATCH_CAPABILITY));
    if (this.joined) {
      // A rejoin after a blip: whatever was unacknowledged goes again (the platform deduplicates).
      this.outbox.resend();
      return;
    }
    this.joined = true;
    this.startup.resolve();
    this.startAgent();
  }

  private joinRefused(response: unknown): void {
    if (!this.active) return;
    const reply = (response ?? {}) as { reason?: unknown; retryable?: unknown };
    if (this.joined) {
      if (reply.retryable === false) {
        const reason = typeof reply.reason === "string" ? `: ${reply.reason}` : "";
        this.fail(new Error(`Gateway permanently rejected channel rejoin${reason}`));
      }
      return;
    }
    // A draining gateway asks the runner to wait for Phoenix's own rejoin.
    if (reply.retryable !== false && (reply.retryable === true || reply.reason === "gateway_draining")) return;
    this.failStartup(new Error(`Failed to join channel: ${JSON.stringify(response)}`), "CHANNEL_JOIN_ERROR");
  }

  private startAgent(): void {
    const session = new RunSession({
      agent: this.request.agent,
      input: this.request.input,
      onEvent: (event) => this.deliver(event),
      onEnd: () => {
        this.producerFinished = true;
        this.finishIfDelivered();
      },
    });
    this.session = session;
    if (this.stopRequested) {
      // Stopped before the agent could start: a run that starts and finishes at once.
      this.deliver({ type: T.RUN_STARTED, threadId: this.threadId, runId: this.runId });
      this.deliver({ type: T.RUN_FINISHED, threadId: this.threadId, runId: this.runId });
      this.producerFinished = true;
      this.finishIfDelivered();
      return;
    }
    session.start();
  }

  /** Stamps the event with its run, id and seq, queues it for the platform, and hands it to the reader. */
  private deliver(event: AgentEvent): void {
    if (!this.active) return;
    const { cpki_event_id: _id, cpki_event_seq: _seq, ...metadata } = (event.metadata ?? {}) as Record<string, unknown>;
    const stamped: Record<string, unknown> = {
      ...event,
      threadId: this.threadId,
      runId: this.runId,
      metadata: { ...metadata, cpki_event_id: globalThis.crypto.randomUUID(), cpki_event_seq: this.nextSeq++ },
    };
    if (event.type === T.RUN_STARTED) {
      const input = (event.input as Record<string, unknown> | undefined) ?? this.request.input;
      stamped.input = { ...input, threadId: this.threadId, runId: this.runId, messages: this.freshMessages ?? this.request.input.messages };
    }
    this.outbox.enqueue({ ...stamped, thread_id: this.threadId, run_id: this.runId });
    this.reader?.next(stamped as BaseEvent);
  }

  private finishIfDelivered(): void {
    if (!this.active || !this.producerFinished || this.outbox.size !== 0) return;
    this.teardown(true);
    this.reader?.complete();
  }

  private failStartup(error: Error, code: string): void {
    if (!this.active) return;
    this.teardown(false);
    this.startup.reject(error);
    this.reader?.next({ type: T.RUN_ERROR, message: error.message, code } as BaseEvent);
    this.reader?.complete();
  }

  private fail(error: Error): void {
    if (!this.active) return;
    this.teardown(false);
    loggerForAgent(this.request.agent).error({ err: error, threadId: this.threadId, runId: this.runId }, "Intelligence run failed");
    try {
      this.request.agent.abortRun?.();
    } catch {
      // The failure must still reach the reader.
    }
    this.startup.reject(error);
    this.reader?.error(error);
  }

  private socketClosed(code: number | undefined): void {
    if (!this.active) return;
    this.plannedRestart ||= code === 1012;
    if (code === 1000 || this.watchdog !== null) return;
    // Phoenix may not reconnect after some closes: make sure it does.
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      const socket = this.socket;
      if (!this.active || socket === undefined || socket.isConnected()) return;
      socket.disconnect(() => {
        if (this.active && !socket.isConnected()) socket.connect();
      });
    }, 1_000);
  }

  private socketFailed(): void {
    // Once the platform accepted the run, reconnecting is Phoenix's job; a planned restart is not a failure.
    if (!this.active || this.joined || this.plannedRestart) return;
    if (++this.socketErrors >= MAX_SOCKET_ERRORS_BEFORE_JOIN) {
      this.failStartup(new Error(`Could not connect to the Intelligence runner socket (${this.socketErrors} consecutive errors)`), "CHANNEL_JOIN_ERROR");
    }
  }

  private clearWatchdog(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  /** Leaves the channel and closes the socket; idempotent. */
  private teardown(completed: boolean): void {
    if (!this.active) return;
    this.active = false;
    this.onRemoved();
    this.outbox.close();
    this.clearWatchdog();
    if (this.stopTimer !== null) clearTimeout(this.stopTimer);
    this.stopTimer = null;
    try {
      this.channel?.leave();
    } catch {
      // already left
    }
    try {
      this.socket?.disconnect();
    } catch {
      // already closed
    }
    this.resolveCompletion(completed);
  }
}

/** Newer AG-UI agents can drop their run without waiting for it; older ones are fenced anyway. */
function detachAgent(agent: AgentRunnerRunRequest["agent"], run: IntelligenceRun): void {
  const detach = (agent as { detachActiveRun?: () => unknown }).detachActiveRun;
  if (typeof detach !== "function") return;
  try {
    Promise.resolve(detach.call(agent)).catch((error: unknown) => logger.warn({ err: error, threadId: run.threadId, runId: run.runId }, "Failed to detach stopped agent"));
  } catch (error) {
    logger.warn({ err: error, threadId: run.threadId, runId: run.runId }, "Failed to detach stopped agent");
  }
}

async function resolveTransport(option: unknown, longPoll: unknown): Promise<unknown> {
  if (option === "longpoll") return longPoll;
  if (option !== undefined) return option;
  return (await defaultWebSocket()) ?? longPoll;
}
