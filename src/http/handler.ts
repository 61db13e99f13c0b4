import { type Logger, isLevelEnabled, logger, toLogger } from "../logger.js";
import { checkOptions, loggerOf } from "../options/check-options.js";
import { HANDLER_OPTIONS } from "../options/option-tables.js";
import { HTTP_ERRORS, errorResponse as catalogueResponse, httpError } from "../errors.js";
import { type CopilotRuntime, isIntelligenceRuntime } from "../runtime.js";
import { INTELLIGENCE_ROUTES } from "../intelligence-runtime/routes/index.js";
import { handleTranscribe } from "../transcription/handle-transcribe.js";
import { DEFAULT_MAX_BODY_BYTES } from "./body.js";
import { RequestContext, type HandlerSettings, type StreamReport } from "./context.js";
import { type CopilotCorsConfig, createCors } from "./cors.js";
import { HttpError, errorCodeOf } from "./errors.js";
import { type CopilotRuntimeHooks, type RouteInfo, UNROUTED, checkHooks, replacedRequest, replacedResponse, routeInfoOf } from "./hooks.js";
import { createHeaderSelector } from "./forward-headers.js";
import { matchRoute, normalizeBasePath, type RouteName } from "./router.js";
import { nativeSseHost, responseHeaders, withHeaders } from "./sse.js";
import { STREAM_ROUTES, StreamLimiter, type StreamLimitOptions, withStreamSlot } from "./stream-limits.js";
import { handleConnect, handleRun, handleStop, handleSuggest } from "./routes/agent.js";
import { handleDebugEvents } from "./routes/debug-events.js";
import { handleInfo } from "./routes/info.js";
import {
  handleArchiveThread,
  handleClearThreads,
  handleDeleteThread,
  handleListThreads,
  handleThreadEvents,
  handleThreadMessages,
  handleThreadState,
  handleUpdateThread,
} from "./routes/threads.js";
import { handleEnvelope } from "./single-route.js";
import { messagesFromEvents } from "../events/messages.js";
import { identifierProblem, resolveInputLimits, type InputLimits } from "../events/input-limits.js";
import { createHealthHandler, type HealthHandler } from "../observability/health.js";
import { createMetricsHandler, defaultMetricsRegistry, MetricsRegistry } from "../observability/metrics.js";
import { endRequestSpan, recordActiveError, startRequestSpan, withSpan } from "../observability/tracing.js";

export interface CopilotRuntimeHandlerOptions {
  runtime: CopilotRuntime;
  /** Where the runtime is mounted, e.g. `/api/copilotkit`. Without it, routes match the end of any path. */
  basePath?: string;
  /**
   * `"multi-route"` (default) serves every route under `basePath` and also answers the
   * single-route envelope at `POST basePath`; `"single-route"` serves only the envelope.
   */
  mode?: "multi-route" | "single-route";
  /** CORS: off by default here (the Hono and Express endpoints default to permissive). */
  cors?: boolean | CopilotCorsConfig;
  /**
   * Request lifecycle hooks, as in CopilotKit: `onRequest`, `onBeforeHandler`, `onResponse`,
   * `onError` (see {@link CopilotRuntimeHooks} for their order and what a thrown `Response` does).
   */
  hooks?: CopilotRuntimeHooks;
  /** Largest accepted JSON body, in bytes. Default 10 MB. */
  maxBodyBytes?: number;
  /** Largest accepted audio upload for `/transcribe`, in bytes. Default 25 MB. */
  maxAudioBytes?: number;
  /** Idle time before an event stream gets a `: ping` comment. Default 15 s. */
  heartbeatMs?: number;
  /**
   * Request limits, each with a safe default:
   * - checked before anything walks a request: `maxJsonDepth` (64), `maxIdLength` (256),
   *   `maxNameLength` (1024); ids and names may not hold NUL or lone surrogates. Over a limit
   *   answers 400 (`json_too_deep`, `Invalid request body`, `invalid_parameter`).
   * - open event streams (`run`, `connect`, `suggest`, direct or through the envelope):
   *   `maxStreams` (10,000) in total, `maxStreamsPerUser` (64) per `identifyUser` id; `0` lifts
   *   one. Past one the caller gets 429 `too_many_streams` with `Retry-After`
   *   (`retryAfterSeconds`, 5).
   */
  limits?: RequestLimits;
  /**
   * Prometheus metrics (off by default). `true` records into the process-wide registry and serves
   * it at `GET /metrics`; a `MetricsRegistry` records into that one. `{ registry, endpoint: false }`
   * records without serving (serve it elsewhere with `createMetricsHandler`). `/metrics` is matched
   * on the whole path, whatever `basePath` is, and skips CORS and the request middleware.
   */
  metrics?: boolean | MetricsRegistry | { registry?: MetricsRegistry; endpoint?: boolean };
  /**
   * `GET /healthz` and `GET /readyz` (off by default): `true`, or a handler from
   * `createHealthHandler` (to call its `drain()` on shutdown). Matched on the whole path like
   * `/metrics`, before CORS and the request middleware, so probes need no credentials.
   */
  health?: boolean | HealthHandler;
}

/** The `limits` option: input limits and event-stream limits in one object. */
export type RequestLimits = Partial<InputLimits> & StreamLimitOptions;

export type CopilotRuntimeHandler = (request: Request) => Promise<Response>;
/** CopilotKit's name for {@link CopilotRuntimeHandler}. */
export type CopilotRuntimeFetchHandler = CopilotRuntimeHandler;
/**
 * CopilotKit's older handler shape, which took `{ request }`.
 *
 * @deprecated Use `CopilotRuntimeFetchHandler`, which takes the `Request` itself.
 */
export type CopilotKitRequestHandler = (params: { request: Request }) => Promise<Response>;

type RouteHandler = (ctx: RequestContext) => Promise<Response>;

/**
 * The web-standard core: `(Request) => Promise<Response>`. Mount it in any framework that
 * speaks Fetch (Hono, Next.js, Bun, Deno, workers) or through the Node and Express adapters.
 *
 * @example
 * ```ts
 * const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit", cors: true });
 * export const GET = handler, POST = handler, OPTIONS = handler;
 * ```
 */
export function createCopilotRuntimeHandler(options: CopilotRuntimeHandlerOptions): CopilotRuntimeHandler {
  checkOptions(HANDLER_OPTIONS, options, "createCopilotRuntimeHandler()", loggerOf(options.runtime));
  const { runtime } = options;
  const basePath = normalizeBasePath(options.basePath);
  const mode = options.mode ?? "multi-route";
  const cors = createCors(options.cors);
  const maxAudioBytes = options.maxAudioBytes;
  const streamLimiter = new StreamLimiter(options.limits);
  const settings: HandlerSettings = {
    runtime,
    basePath,
    mode,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    limits: resolveInputLimits(options.limits),
    heartbeatMs: options.heartbeatMs ?? 15_000,
    selectHeaders: createHeaderSelector(runtime.forwardHeaders),
    metrics: resolveMetrics(options.metrics),
    log: runtime.logger === undefined ? logger : toLogger(runtime.logger),
    // `onResponse` is handed a real streaming Response it may rebuild, so a host's native
    // streaming (a body-less stand-in) is not offered then.
    nativeStreams: options.hooks?.onResponse === undefined,
  };
  const hooks = options.hooks;
  const unknownHooks = checkHooks(hooks);
  // Adapters build a handler per mount point from the same options: one warning is enough.
  if (unknownHooks.length > 0 && !warnedHooks.has(hooks!)) {
    warnedHooks.add(hooks!);
    settings.log.warn({ hooks: unknownHooks }, `hooks: ignoring ${unknownHooks.join(", ")} (known: onRequest, onBeforeHandler, onResponse, onError)`);
  }
  const baseLog = settings.log;
  const metrics = settings.metrics;
  if (metrics !== undefined) metrics.watchRunner(runtime.runner);
  const probes = probeHandlers(options, metrics);

  const routes: Record<RouteName, RouteHandler> = {
    info: handleInfo,
    run: handleRun,
    connect: handleConnect,
    stop: handleStop,
    suggest: handleSuggest,
    transcribe: async (ctx) => {
      await ctx.ownerId(); // transcription costs money: only for callers identifyUser accepts
      return handleTranscribe(ctx.request, runtime.transcriptionService, { maxBytes: maxAudioBytes, onError: (error, original) => logTranscriptionError(ctx.log, error, original) });
    },
    "threads/list": handleListThreads,
    "threads/clear": handleClearThreads,
    "threads/subscribe": async () =>
      catalogueResponse(HTTP_ERRORS.notSupported, "Realtime thread metadata is not available: /info reports threadEndpoints.realtimeMetadata = false."),
    thread: (ctx) => (ctx.request.method === "DELETE" ? handleDeleteThread(ctx) : handleUpdateThread(ctx)),
    "thread/archive": handleArchiveThread,
    "thread/messages": handleThreadMessages,
    "thread/events": handleThreadEvents,
    "thread/state": handleThreadState,
    "inspector-metadata": async () => new Response(null, { status: 204, headers: { "Cache-Control": "no-store, private" } }),
    "cpk-debug-events": handleDebugEvents,
    // Intelligence mode: runs, connects and threads go through the platform.
    ...(isIntelligenceRuntime(runtime) ? INTELLIGENCE_ROUTES : {}),
  };

  // A route's own failure is answered here, with its context, so the metrics know the route.
  // `onBeforeHandler` runs before that, so a `Response` it throws ends the request as CopilotKit's does.
  const dispatchRoute = async (
    state: RequestState,
    request: Request,
    name: RouteName,
    params: Record<string, string>,
    preparsedBody?: unknown,
  ) => {
    if (hooks !== undefined) {
      const route = routeInfoOf(name, params);
      state.route = route;
      if (hooks.onBeforeHandler !== undefined) {
        request = replacedRequest(await hooks.onBeforeHandler({ request, path: state.path, runtime, route }), request);
      }
    }
    const log = state.log;
    const ctx = new RequestContext(request, settings, name, params, log);
    try {
      checkRouteParams(params, settings.limits);
      ctx.preparsedBody = preparsedBody;
      if (STREAM_ROUTES.has(name)) {
        return { ctx, response: await withStreamSlot(streamLimiter, ctx, () => routes[name](ctx)) };
      }
      return { ctx, response: await routes[name](ctx) };
    } catch (error) {
      return { ctx, response: errorResponse(error, log) };
    }
  };

  /**
   * Routes a request. Without `ctx` in the answer no route ran (the path, method or envelope
   * was refused): `label` names what answered, for the metrics.
   */
  const dispatch = async (state: RequestState, request: Request): Promise<{ ctx?: RequestContext; response: Response; label?: string }> => {
    const url = new URL(request.url);
    if (mode === "single-route") return dispatchSingleRoute(state, request, url.pathname);
    const match = matchRoute(request.method, url.pathname, basePath);
    if (match.kind === "root") {
      if (request.method !== "POST") {
        return {
          response: catalogueResponse(HTTP_ERRORS.methodNotAllowed, `${request.method} is not allowed here; use POST.`, { Allow: "POST" }),
          label: "envelope",
        };
      }
      return dispatchEnvelope(state, request);
    }
    if (match.kind === "not-found") {
      return { response: catalogueResponse(HTTP_ERRORS.notFound, `No route for ${request.method} ${url.pathname}.`), label: "not_found" };
    }
    if (match.kind === "method-not-allowed") {
      const allow = match.allow.join(", ");
      if (hooks !== undefined) state.route = routeInfoOf(match.name, match.params);
      return {
        response: catalogueResponse(HTTP_ERRORS.methodNotAllowed, `${request.method} is not allowed here; use ${allow}.`, { Allow: allow }),
        label: "method_not_allowed",
      };
    }
    return dispatchRoute(state, request, match.name, match.params);
  };

  const dispatchEnvelope = async (state: RequestState, request: Request) => {
    const route = (inner: Request, name: RouteName, params: Record<string, string>, body?: unknown) => dispatchRoute(state, inner, name, params, body);
    return { label: "envelope", ...(await handleEnvelope(request, settings, route)) };
  };

  /**
   * Single-route mode: every path under `basePath` (every path, without one) is the envelope's,
   * as in CopilotKit, so a runtime mounted at any path answers its clients.
   */
  const dispatchSingleRoute = async (state: RequestState, request: Request, pathname: string) => {
    if (basePath !== "" && pathname !== basePath && !pathname.startsWith(`${basePath}/`)) {
      return { response: catalogueResponse(HTTP_ERRORS.notFound, `No route for ${request.method} ${pathname}.`), label: "not_found" };
    }
    if (request.method !== "POST") {
      return {
        response: catalogueResponse(HTTP_ERRORS.methodNotAllowed, `${request.method} is not allowed here; use POST.`, { Allow: "POST" }),
        label: "envelope",
      };
    }
    return dispatchEnvelope(state, request);
  };

  /**
   * The request through the hooks, the request middleware and its route. `routed` is true when
   * a route answered and nothing short-circuited: only then does `afterRequestMiddleware` run.
   */
  const handle = async (state: RequestState): Promise<{ ctx?: RequestContext; response: Response; label?: string; routed: boolean }> => {
    let request = state.request;
    if (hooks?.onRequest !== undefined) request = replacedRequest(await hooks.onRequest({ request, path: state.path, runtime }), request);
    try {
      request = await runBeforeMiddleware(runtime, request);
    } catch (error) {
      // The middleware's own answer goes out as it is: no onResponse (CopilotKit's order).
      if (error instanceof Response) return { response: error, routed: false };
      throw error;
    }
    state.request = request;
    const result = await dispatch(state, request);
    if (hooks === undefined) return { ...result, routed: result.ctx !== undefined };
    // A refused path, method or envelope is a thrown Response in CopilotKit: onResponse sees it, the after middleware does not.
    if (result.ctx === undefined) return { ...result, response: await respondWith(state, result.response), routed: false };
    try {
      const response = await respondWith(state, result.response, result.ctx.request);
      return { ...result, response, routed: true };
    } catch (error) {
      // The route's answer will not be sent: end the stream behind it.
      releaseUnsentBody(result.response, undefined);
      throw error;
    }
  };

  /** `onResponse`, when set; the route is the one resolved so far (`info` when none was). */
  const respondWith = async (state: RequestState, response: Response, request: Request = state.request): Promise<Response> => {
    if (hooks?.onResponse === undefined) return response;
    const result = await hooks.onResponse({ request, response, path: state.path, runtime, route: state.route ?? UNROUTED });
    const replaced = replacedResponse(result, response);
    if (replaced !== response) releaseUnsentBody(response, replaced);
    return replaced;
  };

  /** What a request that failed with `error` is answered with: a thrown `Response` as CopilotKit sends it, else `onError`'s answer or a 500. */
  const answerFailure = async (state: RequestState, error: unknown): Promise<Response> => {
    if (error instanceof Response || error instanceof HttpError) {
      const response = error instanceof HttpError ? error.toResponse() : error;
      try {
        return await respondWith(state, response);
      } catch (hookError) {
        return errorResponse(hookError, state.log);
      }
    }
    if (hooks?.onError !== undefined) {
      try {
        const answer = await hooks.onError({ request: state.request, error, path: state.path, runtime, route: state.route });
        if (answer instanceof Response) return answer;
      } catch (hookError) {
        state.log.error({ err: hookError, originalErr: error }, "the onError hook threw");
      }
    }
    return errorResponse(error, state.log);
  };

  return async function copilotRuntimeHandler(incoming: Request): Promise<Response> {
    if (probes !== undefined) {
      const probe = probes(incoming);
      if (probe !== undefined) return probe;
    }
    const startedAt = performance.now();
    const requestId = requestIdOf(incoming);
    const log = baseLog.child!({ requestId });
    const preflight = cors?.preflight(incoming);
    if (preflight !== undefined) {
      metrics?.recordRequest("preflight", incoming.method, preflight.status, errorCodeOf(preflight));
      logAccess(log, incoming, "preflight", preflight.status, startedAt);
      return withRequestId(incoming, preflight, requestId);
    }

    const state: RequestState = { request: incoming, path: pathOf(incoming.url), log, route: undefined };
    let ctx: RequestContext | undefined;
    let response: Response;
    let label: string | undefined;
    let routed = false;
    // The request's span is the active one while routing, so the run it starts is its child.
    const span = startRequestSpan(incoming.method, requestId);
    try {
      const result = await withSpan(span, () => handle(state));
      ctx = result.ctx;
      response = result.response;
      label = result.label;
      routed = result.routed;
    } catch (error) {
      response = await withSpan(span, () => answerFailure(state, error));
    }
    // Route names only (`unknown` when the request middleware answered): never the raw path.
    const routeName = ctx?.route ?? label ?? "unknown";
    const errorCode = errorCodeOf(response);
    metrics?.recordRequest(routeName, incoming.method, response.status, errorCode);
    response = withRequestId(incoming, response, requestId);
    if (cors !== undefined) response = cors.apply(incoming, response);
    if (incoming.method === "HEAD") response = await withoutBody(response);
    // A stream's line comes when it ends, with its events; any other answer's now.
    const status = response.status;
    if (ctx?.streamed) {
      ctx.onStreamClosed((events) => {
        endRequestSpan(span, routeName, status, errorCode);
        logAccess(log, incoming, routeName, status, startedAt, events);
      });
    } else {
      endRequestSpan(span, routeName, status, errorCode);
      logAccess(log, incoming, routeName, status, startedAt);
    }

    if (runtime.afterRequestMiddleware !== undefined && routed) {
      const path = new URL(state.request.url).pathname;
      if (ctx?.streamed) {
        // The body belongs to the client; the hook gets status and headers, and the events.
        const sent = new Response(null, { status: response.status, headers: responseHeaders(response) });
        ctx.onStreamEnd((report) => callAfter(runtime, { response: sent, path, report, log }));
      } else {
        callAfter(runtime, { response: response.clone(), path, log });
      }
    }
    return response;
  };
}

/**
 * The response with `X-Request-Id`. A host that writes the response itself (the Node adapter)
 * takes the header directly, which keeps a lightweight `Response` lightweight.
 */
function withRequestId(request: Request, response: Response, requestId: string): Response {
  const host = nativeSseHost(request);
  if (host?.setResponseHeader !== undefined) {
    host.setResponseHeader("x-request-id", requestId);
    return response;
  }
  return withHeaders(response, [["x-request-id", requestId]]);
}

function resolveMetrics(option: CopilotRuntimeHandlerOptions["metrics"]): MetricsRegistry | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return defaultMetricsRegistry();
  if (option instanceof MetricsRegistry) return option;
  return option.registry ?? defaultMetricsRegistry();
}

/**
 * `/metrics`, `/healthz` and `/readyz` when enabled: a function answering those exact paths
 * (undefined for any other), or undefined when none is on.
 */
function probeHandlers(
  options: CopilotRuntimeHandlerOptions,
  metrics: MetricsRegistry | undefined,
): ((request: Request) => Promise<Response> | undefined) | undefined {
  const serveMetrics =
    metrics !== undefined && !(typeof options.metrics === "object" && !(options.metrics instanceof MetricsRegistry) && options.metrics.endpoint === false);
  const metricsHandler = serveMetrics ? createMetricsHandler({ metrics }) : undefined;
  const health = options.health === true ? createHealthHandler({ runtime: options.runtime }) : options.health || undefined;
  if (metricsHandler === undefined && health === undefined) return undefined;
  return (request) => {
    const url = request.url;
    // A cheap test first: almost every request is for the runtime's own routes.
    if (!url.includes("/metrics") && !url.includes("/healthz") && !url.includes("/readyz")) return undefined;
    const path = new URL(url).pathname;
    if (path === "/metrics") return metricsHandler?.(request);
    if (path === "/healthz" || path === "/readyz") return health?.(request);
    return undefined;
  };
}

/** Path parameters (agent and thread ids) follow the same rules as ids in a body. */
function checkRouteParams(params: Record<string, string>, limits: InputLimits): void {
  for (const name in params) {
    const problem = identifierProblem(params[name], limits.maxIdLength);
    if (problem !== undefined) throw httpError(HTTP_ERRORS.invalidParameter, `${name} ${problem}.`, { parameter: name });
  }
}

/** A HEAD answer: the GET answer's status and headers (its length included), no body. */
async function withoutBody(response: Response): Promise<Response> {
  if (response.body === null) return response;
  const headers = new Headers(response.headers);
  if (!headers.has("content-length")) headers.set("content-length", String((await response.arrayBuffer()).byteLength));
  else void response.body.cancel().catch(() => {});
  return new Response(null, { status: response.status, statusText: response.statusText, headers });
}

const warnedHooks = new WeakSet<object>();

/** One request's progress, shared by the stages that may replace its request or resolve its route. */
interface RequestState {
  /** The request after `onRequest` and the request middleware. */
  request: Request;
  /** The incoming URL's pathname: what every hook is told. */
  path: string;
  log: Logger;
  /** Set once routing resolved a route (only when hooks are set: they are its only readers). */
  route: RouteInfo | undefined;
}

/**
 * `onResponse` replaced a response: the original's body, if nothing took it over, is cancelled
 * so the stream behind it (an agent run, a stream slot) ends instead of waiting for a reader.
 */
function releaseUnsentBody(original: Response, replaced: Response | undefined): void {
  const body = original.body;
  if (body === null || body === replaced?.body || body.locked || original.bodyUsed) return;
  void body.cancel().catch(() => {});
}

async function runBeforeMiddleware(runtime: CopilotRuntime, request: Request): Promise<Request> {
  const before = runtime.beforeRequestMiddleware;
  if (before === undefined) return request;
  const replaced = await before({ runtime, request, path: new URL(request.url).pathname });
  return replaced instanceof Request ? replaced : request;
}

/** The largest incoming `X-Request-Id` kept; longer, or with other characters than these, is replaced. */
const MAX_REQUEST_ID_LENGTH = 128;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]+$/;

/**
 * The request's id: the caller's `X-Request-Id` when it is a sane token (at most 128 of
 * `[A-Za-z0-9._-]`, so it cannot forge log lines or bloat them), else a new random UUID.
 */
export function requestIdOf(request: Request): string {
  const host = nativeSseHost(request);
  const given = host?.header !== undefined ? host.header("x-request-id") : request.headers.get("x-request-id");
  if (given !== undefined && given !== null && given.length <= MAX_REQUEST_ID_LENGTH && REQUEST_ID_PATTERN.test(given)) return given;
  return globalThis.crypto.randomUUID();
}

/** The access line: `info` "request" with method, route name, path (no query), status and duration. */
function logAccess(log: Logger, request: Request, route: string, status: number, startedAt: number, events?: number): void {
  if (!isLevelEnabled(log, "info")) return;
  const fields: Record<string, unknown> = {
    method: request.method,
    route,
    path: pathOf(request.url),
    status,
    durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
  };
  if (events !== undefined) fields.events = events;
  log.info(fields, "request");
}

/** The path of a URL without building a `URL`: the query may hold secrets and is left out. */
function pathOf(url: string): string {
  const scheme = url.indexOf("://");
  const start = scheme === -1 ? 0 : url.indexOf("/", scheme + 3);
  if (start === -1) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query !== -1) end = query;
  const hash = url.indexOf("#", start);
  if (hash !== -1 && hash < end) end = hash;
  return url.slice(start, end);
}

function errorResponse(error: unknown, log: Logger): Response {
  if (error instanceof Response) return error;
  if (error instanceof HttpError) return error.toResponse();
  log.error({ err: error }, "request failed");
  recordActiveError(error, HTTP_ERRORS.internalError.code);
  return catalogueResponse(HTTP_ERRORS.internalError, "The server failed to handle this request. See the server logs for details.");
}

function callAfter(runtime: CopilotRuntime, args: { response: Response; path: string; report?: StreamReport; log: Logger }): void {
  const after = runtime.afterRequestMiddleware!;
  const report = args.report;
  queueMicrotask(() => {
    Promise.resolve()
      .then(() =>
        after({
          runtime,
          response: args.response,
          path: args.path,
          // As in CopilotKit, a JSON answer comes with no messages and no ids.
          ...(report
            ? { events: report.events, messages: messagesFromEvents(report.events), threadId: report.threadId, runId: report.runId }
            : { messages: [], threadId: undefined, runId: undefined }),
        }),
      )
      .catch((error: unknown) => args.log.error({ err: error }, "afterRequestMiddleware failed"));
  });
}

function logTranscriptionError(log: Logger, error: unknown, original: unknown): void {
  if (original !== undefined && original !== error) log.warn({ err: original }, "transcription failed");
}
