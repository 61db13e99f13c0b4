import { describe, expect, it } from "vitest";
import {
  TRANSCRIPTION_ERROR_STATUS,
  TranscriptionError,
  createTranscriptionErrorResponse,
  toTranscriptionError,
  transcriptionErrorFromStatus,
} from "../../src/transcription/index.js";
import { parseRetryAfter } from "../../src/transcription/retry-after.js";

describe("TranscriptionError", () => {
  it("carries the contract's status for every code", () => {
    expect(TRANSCRIPTION_ERROR_STATUS).toEqual({
      service_not_configured: 503,
      invalid_audio_format: 400,
      audio_too_long: 400,
      audio_too_short: 400,
      rate_limited: 429,
      auth_failed: 401,
      provider_error: 500,
      network_error: 502,
      invalid_request: 400,
      payload_too_large: 413,
    });
    expect(new TranscriptionError("auth_failed").status).toBe(401);
  });

  it("marks rate_limited, provider_error and network_error retryable by default", () => {
    const retryable = (Object.keys(TRANSCRIPTION_ERROR_STATUS) as Array<keyof typeof TRANSCRIPTION_ERROR_STATUS>).filter(
      (code) => new TranscriptionError(code).retryable,
    );
    expect(retryable.sort()).toEqual(["network_error", "provider_error", "rate_limited"]);
    expect(new TranscriptionError("provider_error", undefined, { retryable: false }).retryable).toBe(false);
  });

  it("serialises to exactly { error, message, retryable }", () => {
    const error = new TranscriptionError("rate_limited", undefined, {
      retryAfterSeconds: 3,
      providerStatus: 429,
      providerMessage: "secret provider text",
      cause: new Error("raw"),
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      error: "rate_limited",
      message: "Rate limited. Please try again later.",
      retryable: true,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("TranscriptionError");
  });

  it("becomes a JSON response with its status and a Retry-After header when known", async () => {
    const response = createTranscriptionErrorResponse(new TranscriptionError("rate_limited", undefined, { retryAfterSeconds: 9 }));
    expect(response.status).toBe(429);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("retry-after")).toBe("9");
    expect(await response.json()).toEqual({ error: "rate_limited", message: "Rate limited. Please try again later.", retryable: true });
    expect(createTranscriptionErrorResponse(new TranscriptionError("auth_failed")).headers.has("retry-after")).toBe(false);
  });
});

describe("toTranscriptionError", () => {
  it("passes a TranscriptionError through unchanged", () => {
    const original = new TranscriptionError("audio_too_short", "Say a bit more");
    expect(toTranscriptionError(original)).toBe(original);
  });

  it.each([
    [429, "rate_limited", 429],
    [401, "auth_failed", 401],
    [403, "auth_failed", 401],
    [413, "payload_too_large", 413],
    [422, "invalid_request", 400],
    [500, "provider_error", 500],
    [503, "provider_error", 500],
  ] as const)("uses an HTTP status of %i found on the error -> %s", (status, code, httpStatus) => {
    // Text that would classify differently proves the status wins.
    const error = Object.assign(new Error("unauthorized: rate limit"), { status });
    expect(toTranscriptionError(error)).toMatchObject({ code, status: httpStatus, providerStatus: status });
  });

  it("finds the status as statusCode or response.status too", () => {
    expect(toTranscriptionError({ statusCode: 429, message: "x" }).code).toBe("rate_limited");
    expect(toTranscriptionError({ response: { status: 401 }, message: "x" }).code).toBe("auth_failed");
  });

  it("a 400 status is refined by the words of the error", () => {
    expect(toTranscriptionError(Object.assign(new Error("Audio duration exceeds the maximum"), { status: 400 })).code).toBe(
      "audio_too_long",
    );
    expect(toTranscriptionError(Object.assign(new Error("Invalid file format."), { status: 400 })).code).toBe("invalid_audio_format");
    expect(toTranscriptionError(Object.assign(new Error("Missing parameter"), { status: 400 })).code).toBe("invalid_request");
  });

  it.each([
    ["Rate limit exceeded", "rate_limited"],
    ["HTTP 429", "rate_limited"],
    ["Too many requests, slow down", "rate_limited"],
    ["Authentication error", "auth_failed"],
    ["status 401", "auth_failed"],
    ["Invalid API key", "auth_failed"],
    ["Unauthorized", "auth_failed"],
    ["Audio is too long", "audio_too_long"],
    ["max duration exceeded", "audio_too_long"],
    ["input length exceeded", "audio_too_long"],
    ["Something broke", "provider_error"],
  ] as const)("applies CopilotKit's substring rules: %j -> %s", (message, code) => {
    expect(toTranscriptionError(new Error(message)).code).toBe(code);
  });

  it("checks rate limiting before auth before length, as CopilotKit does", () => {
    expect(toTranscriptionError(new Error("429: auth quota, duration")).code).toBe("rate_limited");
    expect(toTranscriptionError(new Error("unauthorized: duration")).code).toBe("auth_failed");
  });

  it("classifies thrown strings and plain objects", () => {
    expect(toTranscriptionError("too many requests").code).toBe("rate_limited");
    expect(toTranscriptionError({ message: "api key missing" }).code).toBe("auth_failed");
    expect(toTranscriptionError(undefined).code).toBe("provider_error");
  });

  it("recognises transport failures as network_error", () => {
    const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    expect(toTranscriptionError(refused)).toMatchObject({ code: "network_error", status: 502, retryable: true });
    expect(toTranscriptionError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })).code).toBe("network_error");
    expect(toTranscriptionError(new DOMException("The operation timed out.", "TimeoutError")).code).toBe("network_error");
  });

  it("never puts the provider's text or a key into the client-visible message", () => {
    const raw = "Incorrect API key provided: sk-proj-abcdef1234567890. Also Bearer sk-proj-abcdef1234567890";
    const error = toTranscriptionError(new Error(raw));
    expect(error.code).toBe("auth_failed");
    expect(error.message).toBe("Authentication failed with transcription provider");
    expect(error.providerMessage).not.toContain("abcdef1234567890");

    const provider = toTranscriptionError(new Error("internal: model shard 7 exploded at /srv/secret/path"));
    expect(provider.code).toBe("provider_error");
    expect(JSON.stringify(provider.toJSON())).not.toContain("shard");
  });
});

describe("transcriptionErrorFromStatus", () => {
  it("keeps Retry-After on a 429 and marks 408 as a network failure", () => {
    expect(transcriptionErrorFromStatus(429, { retryAfterSeconds: 12 })).toMatchObject({ code: "rate_limited", retryAfterSeconds: 12 });
    expect(transcriptionErrorFromStatus(408).code).toBe("network_error");
    expect(transcriptionErrorFromStatus(400, { detail: "Audio file is too short. Minimum audio length is 0.1 seconds." }).code).toBe(
      "audio_too_short",
    );
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds, HTTP dates and retry-after-ms", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter(new Headers({ "retry-after": "7" }), now)).toBe(7);
    expect(parseRetryAfter(new Headers({ "retry-after": "1.2" }), now)).toBe(2);
    expect(parseRetryAfter(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), now)).toBe(30);
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "1500", "retry-after": "9" }), now)).toBe(2);
    expect(parseRetryAfter(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
  });
});
