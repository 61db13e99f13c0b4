import type { EventSubscribable } from "../events/agent-contract.js";
import { HTTP_ERRORS, httpError } from "../errors.js";
import type { InputLimits } from "../events/input-limits.js";
import type { AgentEvent } from "../events/types.js";
import type { Logger } from "../logger.js";
import { ANONYMOUS_OWNER } from "../runners/agent-runner.js";
import type { AgentRecord, CopilotRuntime, RuntimeUser } from "../runtime.js";
import { parseJsonText, readJsonBody } from "./body.js";
import type { HeaderSelector, HeaderSource } from "./forward-headers.js";
import type { MetricsRegistry } from "../observability/metrics.js";
import type { RouteName } from "./router.js";
import { DebugStreamTap } from "../debug/debug-event-bus.js";
import { createNativeSseResponse, createSseResponse, nativeSseHost, type SseStreamOptions } from "./sse.js";

/** Options of the handler, resolved once when it is created. */
export interface HandlerSettings {
  runtime: CopilotRuntime;
  basePath: string;
  mode: "multi-route" | "single-route";
  maxBodyBytes: number;
  limits: InputLimits;
  heartbeatMs: number;
  selectHeaders: HeaderSelector;
  /** Where requests, streams and events are counted, when metrics are on. */
  metrics?: MetricsRegistry;
  /** The runtime's logger (its `logger` option), else the process-wide one. */
  log: Logger;
  /** Whether a host that streams natively (the Node adapter) may be handed a body-less stand-in. */
  nativeStreams: boolean;
}

/** What the after-request middleware learns about an event stream once it ends. */
export interface StreamReport {
  events: AgentEvent[];
  threadId?: string;
  runId?: string;
}

/**
 * Everything a route handler needs for one request, computed lazily and at most once:
 * the agents (a factory runs once per request), the caller's identity, the JSON body.
 */
export class RequestContext {
  private agentsPromise?: Promise<AgentRecord>;
  private userPromise?: Promise<RuntimeUser | undefined>;
  private identifyPromise?: Promise<RuntimeUser | undefined>;
  private streamEndListener?: (report: StreamReport) => void;
  private endedReport?: StreamReport;
  private streamCloseListener?: (events: number) => void;
  private closedWithEvents?: number;

  /** When routing began (`performance.now()`), for time to first event; 0 without metrics. */
  readonly startedAt: number;

  constructor(
    readonly request: Request,
    readonly settings: HandlerSettings,
    readonly route: RouteName,
    readonly params: Record<string, string>,
    /** This request's logger: every line carries its `requestId`. */
    readonly log: Logger,
  ) {
    this.startedAt = settings.metrics === undefined ? 0 : performance.now();
  }

  get runtime(): CopilotRuntime {
    return this.settings.runtime;
  }

  agents(): Promise<AgentRecord> {
    this.agentsPromise ??= this.runtime.resolveAgents(this.request).catch((error: unknown) => {
      this.log.error({ err: error }, "the agents factory failed");
      throw httpError(HTTP_ERRORS.agentFactoryFailed, "The server could not load its agents. See the server logs for details.");
    });
    return this.agentsPromise;
  }

  /**
   * `identifyUser`'s own answer for this request, asked once however many parts of the request
   * need it (rejects as `identifyUser` does). Undefined without `identifyUser`.
   */
  identify(): Promise<RuntimeUser | undefined> {
    const identify = this.runtime.identifyUser;
    if (identify === undefined) return Promise.resolve(undefined);
    this.identifyPromise ??= Promise.resolve().then(() => identify(this.request));
    return this.identifyPromise;
  }

  /** The caller's owner id for thread isolation. */
  async ownerId(): Promise<string> {
    const identify = this.runtime.identifyUser;
    if (identify === undefined) return ANONYMOUS_OWNER;
    this.userPromise ??= this.identify()
      .catch((error: unknown) => {
        if (error instanceof Response) throw error;
        this.log.error({ err: error }, "identifyUser failed");
        throw httpError(HTTP_ERRORS.identifyUserFailed, "The server could not identify the caller.");
      });
    const user = await this.userPromise;
    if (user === undefined || user === null || typeof user.id !== "string" || user.id === "") {
      throw httpError(HTTP_ERRORS.unauthenticated, "identifyUser did not return a user id for this request.");
    }
    this.knownOwnerId = user.id;
    return user.id;
  }

  /**
   * The owner id once {@link ownerId} has resolved it for this request (run and connect resolve it
   * before they stream); `undefined` before that, or without `identifyUser`.
   */
  knownOwnerId?: string;

  /** A body the single-route envelope already parsed, so it is not serialised again. */
  preparsedBody?: unknown;
  /** True once a route answered with an event stream. */
  streamed = false;
  /** Runs once when the event stream ends, however it ends (the stream limiter's release). */
  onStreamClose?: () => void;

  /** Calls `listener` once the event stream has ended (at once if it already has). */
  onStreamEnd(listener: (report: StreamReport) => void): void {
    if (this.endedReport !== undefined) listener(this.endedReport);
    else this.streamEndListener = listener;
  }

  /** Calls `listener` with the number of events sent once the event stream has closed (at once if it has). */
  onStreamClosed(listener: (events: number) => void): void {
    if (this.closedWithEvents !== undefined) listener(this.closedWithEvents);
    else this.streamCloseListener = listener;
  }

  private streamClosed(events: number): void {
    if (this.streamCloseListener !== undefined) this.streamCloseListener(events);
    else this.closedWithEvents = events;
  }

  private reportStreamEnd(report: StreamReport): void {
    if (this.streamEndListener !== undefined) this.streamEndListener(report);
    else this.endedReport = report;
  }

  /** The request's headers for reading a few of them: the host's raw list when it has one. */
  headerSource(): HeaderSource {
    return nativeSseHost(this.request)?.requestHeaders?.() ?? this.request.headers;
  }

  readJson(): Promise<unknown> {
    if (this.preparsedBody !== undefined) return Promise.resolve(this.preparsedBody);
    const host = nativeSseHost(this.request);
    const { maxBodyBytes, limits } = this.settings;
    if (host?.readBodyText !== undefined) return host.readBodyText(maxBodyBytes).then((text) => parseJsonText(text, limits.maxJsonDepth));
    return readJsonBody(this.request, maxBodyBytes, limits.maxJsonDepth);
  }

  /**
   * An SSE response for an event source, wired to heartbeats, disconnects and the after hook.
   * `feed`: the stream is a feed about other streams (the debug feed): its own reader buffer
   * limit, and neither the after hook nor the debug output see it.
   */
  stream(source: EventSubscribable, feed?: { maxBufferedBytes: number }): Response {
    this.streamed = true;
    const report = feed === undefined && this.runtime.afterRequestMiddleware ? collector((r) => this.reportStreamEnd(r)) : undefined;
    const release = this.onStreamClose;
    const closeRest = report && release ? () => (report.onClose(), release()) : (report?.onClose ?? release);
    let onClose: (events: number) => void =
      closeRest === undefined ? (events) => this.streamClosed(events) : (events) => (closeRest(), this.streamClosed(events));
    let onEvent = report?.onEvent;
    const debug = feed === undefined ? debugHooks(this) : undefined;
    if (debug !== undefined) {
      const [reportEvent, closeOthers] = [onEvent, onClose];
      onEvent = reportEvent === undefined ? debug.onEvent : (event) => (reportEvent(event), debug.onEvent(event));
      onClose = (events) => (debug.onClose(events), closeOthers(events));
    }
    const meter = this.settings.metrics?.openStream(this.route, this.startedAt);
    if (meter !== undefined) {
      // Closures per stream, never per event: an event costs the meter a field increment.
      const [reportEvent, closeOthers] = [onEvent, onClose];
      onEvent = reportEvent === undefined ? () => meter.onEvent() : (event) => (meter.onEvent(), reportEvent(event));
      onClose = (events) => (meter.onClose(), closeOthers(events));
    }
    const options: SseStreamOptions = { heartbeatMs: this.settings.heartbeatMs, onEvent, onClose, log: this.log };
    if (feed !== undefined) {
      options.maxBufferedBytes = feed.maxBufferedBytes;
      options.opening = ": connected\n\n"; // as CopilotKit's feed; events may be minutes away
    }
    // A host that streams natively (the Node adapter) watches the socket itself: the request's
    // AbortSignal (and the web Request behind it) is never created.
    if (this.settings.nativeStreams && nativeSseHost(this.request) !== undefined) return createNativeSseResponse(source, options);
    options.signal = this.request.signal;
    return createSseResponse(source, options);
  }
}

/**
 * What the runtime's `debug` option and the debug feed add to a run or connect stream: each
 * event published to `/cpk-debug-events` and/or logged at debug level, and the stream's opening
 * and end logged. Undefined (nothing added, nothing paid per event) when both are off.
 */
function debugHooks(ctx: RequestContext): { onEvent: (event: AgentEvent) => void; onClose: (events: number) => void } | undefined {
  if (ctx.route !== "run" && ctx.route !== "connect") return undefined;
  const { debug, debugEvents } = ctx.runtime;
  if (debugEvents === undefined && !debug.enabled) return undefined;
  const log = ctx.log;
  const fields = { route: ctx.route, agentId: ctx.params.agentId };
  if (debug.lifecycle) log.debug?.(fields, "SSE stream opened");
  const tap = debugEvents === undefined ? undefined : new DebugStreamTap(debugEvents, ctx.params.agentId ?? "", ctx.knownOwnerId);
  const logEvents = debug.events && log.debug !== undefined;
  return {
    onEvent(event) {
      tap?.onEvent(event);
      if (logEvents) log.debug!(debug.verbose ? { event } : summarizeEvent(event), "Event emitted");
    },
    onClose(events) {
      if (debug.lifecycle) log.debug?.({ ...fields, events }, "SSE stream completed");
    },
  };
}

/** An event's type and ids, without its payload (which holds user content). */
function summarizeEvent(event: AgentEvent): Record<string, unknown> {
  const summary: Record<string, unknown> = { type: event.type };
  for (const key of ["threadId", "runId", "messageId", "toolCallId", "toolCallName", "stepName", "code"]) {
    if (event[key] !== undefined) summary[key] = event[key];
  }
  if (typeof event.delta === "string") summary.deltaLength = event.delta.length;
  return summary;
}

function collector(onEnd: (report: StreamReport) => void) {
  const events: AgentEvent[] = [];
  let threadId: string | undefined;
  let runId: string | undefined;
  return {
    onEvent(event: AgentEvent) {
      events.push(event);
      if (event.type === "RUN_STARTED") {
        threadId = event.threadId as string;
        runId = event.runId as string;
      }
    },
    onClose() {
      onEnd({ events, threadId, runId });
    },
  };
}

