/** Where a JSON error response keeps its `error` code for the metrics, so no one reads the body back. */
const ERROR_CODE = Symbol.for("copilot-runtime.error-code");

/**
 * A JSON error response: `{ "error": <stable code>, "message": <for humans>, ...extra }`.
 * Where CopilotKit's contract fixes an `error` string ("Agent not found", "Not found", ...),
 * that string is kept byte for byte and a `message` is added. `message` undefined leaves it out
 * (Intelligence-mode answers, whose CopilotKit bodies have none).
 */
export function jsonError(status: number, error: string, message: string | undefined, extra?: Record<string, unknown>, headers?: HeadersInit): Response {
  const response = jsonResponse({ error, message, ...extra }, status, headers);
  (response as { [ERROR_CODE]?: string })[ERROR_CODE] = error;
  return response;
}

/** The `error` code of a response built by {@link jsonError}, if it is one. */
export function errorCodeOf(response: Response): string | undefined {
  return (response as { [ERROR_CODE]?: string })[ERROR_CODE];
}

export function jsonResponse(body: unknown, status = 200, headers?: HeadersInit): Response {
  const merged = new Headers(headers);
  merged.set("Content-Type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: merged });
}

/** An error that already knows its HTTP answer; thrown inside handlers, answered by the core. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra?: Record<string, unknown>,
    readonly headers?: HeadersInit,
  ) {
    super(message);
    this.name = "HttpError";
  }

  toResponse(): Response {
    return jsonError(this.status, this.code, this.message, this.extra, this.headers);
  }
}
