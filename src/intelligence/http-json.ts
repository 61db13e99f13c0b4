/** A request the platform refuses, with the status and JSON body `{error, message}` it answers. */
export class PlatformHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "PlatformHttpError";
  }
}

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers } });
}

/** The `{error, message}` response for an error. */
export function errorResponse(error: PlatformHttpError): Response {
  return json(error.status, { error: error.code, message: error.message });
}

/**
 * The request's JSON object body. An empty body is `{}` (DELETEs may carry none). Bodies over
 * `maxBytes`, invalid JSON and non-objects are 4xx errors.
 */
export async function readJsonObject(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new PlatformHttpError(413, "payload_too_large", `The body exceeds ${maxBytes} bytes`);
  const text = await request.text();
  if (Buffer.byteLength(text) > maxBytes) throw new PlatformHttpError(413, "payload_too_large", `The body exceeds ${maxBytes} bytes`);
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PlatformHttpError(400, "invalid_json", "The body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new PlatformHttpError(400, "invalid_body", "The body must be a JSON object");
  return value as Record<string, unknown>;
}

// The id pattern CopilotKit's runtime enforces on user and agent ids.
const ID_PATTERN = /^[\w.@:=-]+$/;

/** A required id field (`userId`, `agentId`, `runId`, ...): a string of 1..256 id characters. */
export function requireId(value: unknown, field: string, maxLength = 256): string {
  if (typeof value !== "string" || value.length === 0) throw new PlatformHttpError(400, "invalid_request", `${field} is required and must be a non-empty string`);
  if (value.length > maxLength || !ID_PATTERN.test(value)) throw new PlatformHttpError(400, "invalid_request", `${field} must be at most ${maxLength} characters of letters, digits and _.@:=-`);
  return value;
}

/** A thread or run id from the path or body: any non-empty string up to 256 characters without control characters. */
export function requireResourceId(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length === 0) throw new PlatformHttpError(400, "invalid_request", `${field} is required and must be a non-empty string`);
  // eslint-disable-next-line no-control-regex
  if (value.length > 256 || /[\u0000-\u001f]/.test(value)) throw new PlatformHttpError(400, "invalid_request", `${field} must be at most 256 characters without control characters`);
  return value;
}
