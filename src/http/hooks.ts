import type { CopilotRuntime } from "../runtime.js";
import type { RouteName } from "./router.js";

/**
 * The route a request resolved to, named as CopilotKit names it (`agent/run`, `threads/update`,
 * ...), with the ids its path carried.
 */
export type RouteInfo =
  | { method: "agent/run"; agentId: string }
  | { method: "agent/suggest"; agentId: string }
  | { method: "agent/connect"; agentId: string }
  | { method: "agent/stop"; agentId: string; threadId: string }
  | { method: "info" }
  | { method: "inspector/metadata" }
  | { method: "transcribe" }
  | { method: "threads/list" }
  | { method: "threads/subscribe" }
  | { method: "threads/update"; threadId: string }
  | { method: "threads/archive"; threadId: string }
  | { method: "threads/messages"; threadId: string }
  | { method: "threads/events"; threadId: string }
  | { method: "threads/state"; threadId: string }
  | { method: "threads/clear" }
  | { method: "cpk-debug-events" };

/** What every hook receives. */
export interface HookContext {
  /** The request as it stands now (an earlier hook may have replaced it). */
  request: Request;
  /** The request URL's pathname. */
  path: string;
  runtime: CopilotRuntime;
}

/** What `onBeforeHandler` receives: the request has been routed. */
export interface HandlerHookContext extends HookContext {
  route: RouteInfo;
}

/** What `onResponse` receives. */
export interface ResponseHookContext extends HookContext {
  /** The answer about to be sent: for an event stream, a `text/event-stream` response whose body is the stream. */
  response: Response;
  /** The route; `{ method: "info" }` when the request was answered before it was routed (as in CopilotKit). */
  route: RouteInfo;
}

/** What `onError` receives. */
export interface ErrorHookContext extends HookContext {
  error: unknown;
  /** The route, when routing had succeeded before the error. */
  route?: RouteInfo;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Request lifecycle hooks (the `hooks` option), with CopilotKit 1.75's names and order:
 * CORS preflight (no hooks) -> `onRequest` -> `beforeRequestMiddleware` -> routing ->
 * `onBeforeHandler` -> the route -> `onResponse` -> CORS headers -> `afterRequestMiddleware`.
 *
 * - A hook that throws a `Response` ends the request with it: `onResponse` still sees it (its
 *   `route` is `{ method: "info" }` if routing had not happened), CORS headers are added,
 *   `afterRequestMiddleware` is not called. Routing failures (404, 405, a bad envelope) take
 *   the same path.
 * - A hook that throws anything else goes to `onError`; the `Response` it returns is sent (with
 *   CORS headers, without `onResponse`), otherwise the answer is a 500 `internal_error`.
 *
 * @example
 * ```ts
 * createCopilotRuntimeHandler({
 *   runtime,
 *   hooks: {
 *     onRequest: ({ request }) => {
 *       if (!request.headers.get("authorization")) throw new Response("Unauthorized", { status: 401 });
 *     },
 *     onResponse: ({ response }) => {
 *       const headers = new Headers(response.headers);
 *       headers.set("x-served-by", "copilot");
 *       return new Response(response.body, { status: response.status, headers });
 *     },
 *   },
 * });
 * ```
 */
export interface CopilotRuntimeHooks {
  /** Before routing: return a `Request` to replace the incoming one; throw a `Response` to answer now. */
  onRequest?: (ctx: HookContext) => MaybePromise<Request | void>;
  /** After routing, before the route runs: return a `Request` to replace it; throw a `Response` to answer now. */
  onBeforeHandler?: (ctx: HandlerHookContext) => MaybePromise<Request | void>;
  /** Before the answer is sent: return a `Response` to replace it. */
  onResponse?: (ctx: ResponseHookContext) => MaybePromise<Response | void>;
  /** When processing failed with a non-`Response` error: return a `Response` to send instead of the 500. */
  onError?: (ctx: ErrorHookContext) => MaybePromise<Response | void>;
}

/** Our route names and path parameters as CopilotKit's `RouteInfo`. */
export function routeInfoOf(name: RouteName, params: Record<string, string>): RouteInfo {
  switch (name) {
    case "run":
      return { method: "agent/run", agentId: params.agentId };
    case "connect":
      return { method: "agent/connect", agentId: params.agentId };
    case "suggest":
      return { method: "agent/suggest", agentId: params.agentId };
    case "stop":
      return { method: "agent/stop", agentId: params.agentId, threadId: params.threadId };
    case "info":
      return { method: "info" };
    case "inspector-metadata":
      return { method: "inspector/metadata" };
    case "cpk-debug-events":
      return { method: "cpk-debug-events" };
    case "transcribe":
      return { method: "transcribe" };
    case "threads/list":
    case "threads/clear":
    case "threads/subscribe":
      return { method: name };
    case "thread":
      return { method: "threads/update", threadId: params.threadId };
    case "thread/archive":
      return { method: "threads/archive", threadId: params.threadId };
    case "thread/messages":
      return { method: "threads/messages", threadId: params.threadId };
    case "thread/events":
      return { method: "threads/events", threadId: params.threadId };
    case "thread/state":
      return { method: "threads/state", threadId: params.threadId };
  }
}

/** Where a request was answered before it was routed: CopilotKit reports `info` there. */
export const UNROUTED: RouteInfo = Object.freeze({ method: "info" }) as RouteInfo;

/** A hook's replacement request, or the current one when it returned anything else. */
export function replacedRequest(result: unknown, current: Request): Request {
  return result instanceof Request ? result : current;
}

/** A hook's replacement response, or the current one when it returned anything else. */
export function replacedResponse(result: unknown, current: Response): Response {
  return result instanceof Response ? result : current;
}

const HOOK_NAMES = ["onRequest", "onBeforeHandler", "onResponse", "onError"] as const;

/**
 * Checks the `hooks` option once, when the handler is created: a hook that is not a function
 * would otherwise fail every request (CopilotKit answers each with a 500), and a misspelt name
 * would leave an auth gate silently unused. Returns the names it does not know, to be warned about.
 */
export function checkHooks(hooks: unknown): string[] {
  if (hooks === undefined) return [];
  if (hooks === null || typeof hooks !== "object" || Array.isArray(hooks)) {
    throw new TypeError(`hooks must be an object of functions (${HOOK_NAMES.join(", ")}), got ${hooks === null ? "null" : typeof hooks}`);
  }
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(hooks)) {
    if (!(HOOK_NAMES as readonly string[]).includes(name)) {
      unknown.push(name);
      continue;
    }
    if (value !== undefined && typeof value !== "function") throw new TypeError(`hooks.${name} must be a function, got ${typeof value}`);
  }
  return unknown;
}
