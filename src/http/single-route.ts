import { jsonTextDepth } from "../events/input-limits.js";
import { HTTP_ERRORS, errorResponse } from "../errors.js";
import { jsonTooDeep, readBodyText } from "./body.js";
import type { HandlerSettings, RequestContext } from "./context.js";
import type { RouteName } from "./router.js";

type DispatchRoute = (
  request: Request,
  name: RouteName,
  params: Record<string, string>,
  preparsedBody?: unknown,
) => Promise<{ ctx?: RequestContext; response: Response }>;

interface EnvelopeMethod {
  route: RouteName;
  params: string[];
  /** The envelope must carry `body` (the JSON the multi-route call would have posted). */
  needsBody: boolean;
}

const METHODS: Record<string, EnvelopeMethod> = {
  info: { route: "info", params: [], needsBody: false },
  "agent/run": { route: "run", params: ["agentId"], needsBody: true },
  "agent/connect": { route: "connect", params: ["agentId"], needsBody: true },
  "agent/stop": { route: "stop", params: ["agentId", "threadId"], needsBody: false },
  "agent/suggest": { route: "suggest", params: ["agentId"], needsBody: true },
  transcribe: { route: "transcribe", params: [], needsBody: true },
  "inspector/metadata": { route: "inspector-metadata", params: [], needsBody: false },
};

const invalidRequest = (status: number, message: string) =>
  errorResponse(status === 415 ? HTTP_ERRORS.unsupportedMediaType : HTTP_ERRORS.invalidEnvelope, message);

/**
 * The single-route envelope at `POST basePath`: `{ method, params?, body? }`, dispatched to the
 * same route handlers as the multi-route paths, so the answers are byte-identical.
 */
export async function handleEnvelope(
  request: Request,
  settings: HandlerSettings,
  dispatchRoute: DispatchRoute,
): Promise<{ ctx?: RequestContext; response: Response }> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!contentType.includes("application/json")) {
    return { response: invalidRequest(415, "Single-route endpoint expects JSON payloads") };
  }
  let envelope: unknown;
  try {
    const text = await readBodyText(request, settings.maxBodyBytes);
    // The envelope wraps the route's body in one more object.
    const maxDepth = settings.limits.maxJsonDepth + 1;
    if (jsonTextDepth(text, maxDepth) > maxDepth) return { response: jsonTooDeep(settings.limits.maxJsonDepth).toResponse() };
    envelope = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return { response: invalidRequest(400, "Invalid JSON payload") };
    throw error;
  }
  if (envelope === null || typeof envelope !== "object" || Array.isArray(envelope)) {
    return { response: invalidRequest(400, "Invalid JSON payload") };
  }
  const { method, params, body } = envelope as { method?: unknown; params?: unknown; body?: unknown };
  if (typeof method !== "string" || method === "") return { response: invalidRequest(400, "Missing method field") };
  const spec = Object.prototype.hasOwnProperty.call(METHODS, method) ? METHODS[method] : undefined;
  if (spec === undefined) return { response: invalidRequest(400, `Unsupported method '${method}'`) };

  const routeParams: Record<string, string> = {};
  for (const key of spec.params) {
    const value = (params as Record<string, unknown> | undefined)?.[key];
    if (typeof value !== "string" || value.trim() === "") {
      return { response: invalidRequest(400, `Missing or invalid parameter '${key}'`) };
    }
    routeParams[key] = value;
  }
  if (spec.needsBody && body === undefined) return { response: invalidRequest(400, "Missing request body for JSON handler") };

  if (spec.route !== "transcribe") {
    // Routes read the body through the context (already parsed here), headers and signal:
    // the original request serves as is, with no second Request built per envelope call.
    return dispatchRoute(request, spec.route, routeParams, body ?? {});
  }
  return dispatchRoute(transcribeRequest(request, body), spec.route, routeParams);
}

/** `/transcribe` reads its own body: the envelope's `body` becomes a JSON request. */
function transcribeRequest(request: Request, body: unknown): Request {
  const headers = new Headers(request.headers);
  headers.delete("content-length");
  headers.set("content-type", "application/json");
  return new Request(request.url, { method: "POST", headers, body: JSON.stringify(body), signal: request.signal });
}
