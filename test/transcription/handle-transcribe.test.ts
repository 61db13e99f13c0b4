import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  OpenAITranscriptionService,
  TranscriptionError,
  TranscriptionService,
  handleTranscribe,
  type TranscribeFileOptions,
} from "../../src/transcription/index.js";
import { expectedTranscript, startFakeOpenAI, type FakeOpenAI } from "./fake-openai-server.js";

const URL_ = "http://127.0.0.1/api/copilotkit/transcribe";
const API_KEY = "sk-handler-test-abcdef0123456789";
const AUDIO = new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d, 0x00, 0xff]);

/** Records what the endpoint hands a service, and answers or throws as told. */
class RecordingService extends TranscriptionService {
  calls: Array<TranscribeFileOptions & { bytes: Uint8Array }> = [];
  constructor(private readonly answer: (options: TranscribeFileOptions) => unknown = () => "hello world") {
    super();
  }
  async transcribeFile(options: TranscribeFileOptions): Promise<string> {
    this.calls.push({ ...options, bytes: new Uint8Array(await options.audioFile.arrayBuffer()) });
    return this.answer(options) as string;
  }
}

function multipart(file: File): Request {
  const form = new FormData();
  form.append("audio", file);
  return new Request(URL_, { method: "POST", body: form });
}

function json(body: unknown): Request {
  return new Request(URL_, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function expectError(response: Response, status: number, error: string, retryable = false) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ error, retryable });
  expect(typeof body.message).toBe("string");
  expect(Object.keys(body).sort()).toEqual(["error", "message", "retryable"]);
  return body;
}

describe("handleTranscribe with an in-process service", () => {
  it("answers 503 service_not_configured without reading the body", async () => {
    const request = multipart(new File([AUDIO], "a.webm", { type: "audio/webm" }));
    const body = await expectError(await handleTranscribe(request, undefined), 503, "service_not_configured");
    expect(body.message).toBe("Transcription service is not configured");
    expect(request.bodyUsed).toBe(false);
  });

  it("answers 200 { text, size, type } for a multipart upload and passes the file through", async () => {
    const service = new RecordingService();
    const request = multipart(new File([AUDIO], "recording.webm", { type: "audio/webm;codecs=opus" }));
    const response = await handleTranscribe(request, service);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ text: "hello world", size: AUDIO.byteLength, type: "audio/webm;codecs=opus" });
    const [call] = service.calls;
    expect(call!.bytes).toEqual(AUDIO);
    expect(call!.mimeType).toBe("audio/webm;codecs=opus");
    expect(call!.size).toBe(AUDIO.byteLength);
    expect(call!.signal).toBe(request.signal);
  });

  it("answers 200 for the JSON/base64 form", async () => {
    const service = new RecordingService(() => "from json");
    const response = await handleTranscribe(
      json({ audio: `data:audio/ogg;base64,${Buffer.from(AUDIO).toString("base64")}`, mimeType: "audio/ogg", filename: "n.ogg" }),
      service,
    );
    expect(await response.json()).toEqual({ text: "from json", size: AUDIO.byteLength, type: "audio/ogg" });
    expect(service.calls[0]!.audioFile.name).toBe("n.ogg");
    expect(service.calls[0]!.bytes).toEqual(AUDIO);
  });

  it("reports an octet-stream upload as audio/webm", async () => {
    const response = await handleTranscribe(multipart(new File([AUDIO], "blob", { type: "application/octet-stream" })), new RecordingService());
    expect(await response.json()).toMatchObject({ type: "audio/webm" });
  });

  it.each([
    ["an empty file", () => multipart(new File([], "a.webm", { type: "audio/webm" })), 400, "audio_too_short"],
    ["a non-audio file", () => multipart(new File([AUDIO], "a.txt", { type: "text/plain" })), 400, "invalid_audio_format"],
    ["an oversized file", () => multipart(new File([new Uint8Array(65)], "a.webm", { type: "audio/webm" })), 413, "payload_too_large"],
    ["oversized base64", () => json({ audio: Buffer.from(new Uint8Array(65)).toString("base64"), mimeType: "audio/webm" }), 413, "payload_too_large"],
    ["invalid base64", () => json({ audio: "@@@", mimeType: "audio/webm" }), 400, "invalid_request"],
    ["a JSON body without mimeType", () => json({ audio: "GkXfow==" }), 400, "invalid_request"],
    ["a form without 'audio'", () => new Request(URL_, { method: "POST", body: new FormData() }), 400, "invalid_request"],
    ["a text/plain body", () => new Request(URL_, { method: "POST", body: "hi", headers: { "content-type": "text/plain" } }), 400, "invalid_request"],
  ] as const)("refuses %s with %i %s, without calling the service", async (_label, makeRequest, status, code) => {
    const service = new RecordingService();
    await expectError(await handleTranscribe(makeRequest(), service, { maxBytes: 64 }), status, code);
    expect(service.calls).toHaveLength(0);
  });

  it("classifies what a service throws and hides its text", async () => {
    const throwing = (error: unknown) =>
      new RecordingService(() => {
        throw error;
      });
    const file = () => multipart(new File([AUDIO], "a.webm", { type: "audio/webm" }));

    await expectError(await handleTranscribe(file(), throwing(new Error("429 Too Many Requests"))), 429, "rate_limited", true);
    await expectError(await handleTranscribe(file(), throwing(new Error("Invalid API key sk-live-abcdef123456"))), 401, "auth_failed");
    await expectError(await handleTranscribe(file(), throwing(new Error("Maximum duration exceeded"))), 400, "audio_too_long");
    const body = await expectError(await handleTranscribe(file(), throwing(new Error("segfault in /opt/secret"))), 500, "provider_error", true);
    expect(body.message).not.toContain("secret");
    await expectError(
      await handleTranscribe(file(), throwing(new TranscriptionError("audio_too_short", "Say a bit more"))),
      400,
      "audio_too_short",
    );
  });

  it("answers 500 when a service resolves to something other than a string", async () => {
    await expectError(await handleTranscribe(multipart(new File([AUDIO], "a.webm", { type: "audio/webm" })), new RecordingService(() => 42)), 500, "provider_error");
  });

  it("reports every error to onError, with the original, and survives a throwing onError", async () => {
    const seen: Array<[string, unknown]> = [];
    const original = new Error("rate limit");
    await handleTranscribe(
      multipart(new File([AUDIO], "a.webm", { type: "audio/webm" })),
      new RecordingService(() => {
        throw original;
      }),
      { onError: (error, cause) => seen.push([error.code, cause]) },
    );
    expect(seen).toEqual([["rate_limited", original]]);

    const response = await handleTranscribe(json({}), new RecordingService(), {
      onError: () => {
        throw new Error("logger down");
      },
    });
    expect(response.status).toBe(400);
  });
});

describe("handleTranscribe with OpenAITranscriptionService and a local OpenAI-compatible server", () => {
  let provider: FakeOpenAI;
  let service: OpenAITranscriptionService;

  beforeAll(async () => {
    provider = await startFakeOpenAI({ apiKey: API_KEY });
    service = new OpenAITranscriptionService({ apiKey: API_KEY, baseURL: provider.baseURL, timeoutMs: 300 });
  });
  afterAll(async () => {
    await provider.close();
  });
  afterEach(() => {
    provider.behaviour = "ok";
    provider.requests.length = 0;
  });

  it("transcribes a browser-style multipart upload end to end", async () => {
    const response = await handleTranscribe(multipart(new File([AUDIO], "recording.webm", { type: "audio/webm;codecs=opus" })), service);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      text: expectedTranscript("recording.webm", AUDIO),
      size: AUDIO.byteLength,
      type: "audio/webm;codecs=opus",
    });
    expect(new Uint8Array(provider.requests[0]!.parts.get("file")!.data)).toEqual(AUDIO);
  });

  it("transcribes the single-route base64 form end to end", async () => {
    const response = await handleTranscribe(json({ audio: Buffer.from(AUDIO).toString("base64"), mimeType: "audio/wav" }), service);
    // The default name recording.webm is corrected to match the declared type before upload.
    expect(await response.json()).toEqual({ text: expectedTranscript("recording.wav", AUDIO), size: AUDIO.byteLength, type: "audio/wav" });
    expect(provider.requests[0]!.parts.get("file")!.contentType).toBe("audio/wav");
  });

  it("passes a rate limit through as 429 with Retry-After", async () => {
    provider.behaviour = "rate-limited";
    const response = await handleTranscribe(multipart(new File([AUDIO], "a.webm", { type: "audio/webm" })), service);
    expect(response.headers.get("retry-after")).toBe("7");
    await expectError(response, 429, "rate_limited", true);
  });

  it("answers 401 auth_failed without the key the provider echoed", async () => {
    provider.behaviour = "unauthorized";
    const response = await handleTranscribe(multipart(new File([AUDIO], "a.webm", { type: "audio/webm" })), service);
    const text = await response.clone().text();
    expect(text).not.toContain(API_KEY);
    await expectError(response, 401, "auth_failed");
  });

  it.each([
    ["too-long", 400, "audio_too_long", false],
    ["server-error", 500, "provider_error", true],
    ["drop-connection", 502, "network_error", true],
    ["slow", 502, "network_error", true],
  ] as const)("maps provider behaviour %s to %i %s", async (behaviour, status, code, retryable) => {
    provider.behaviour = behaviour;
    const response = await handleTranscribe(multipart(new File([AUDIO], "a.webm", { type: "audio/webm" })), service);
    await expectError(response, status, code, retryable);
  });

  it("refuses empty, oversized and non-audio uploads before the provider sees them", async () => {
    await expectError(await handleTranscribe(multipart(new File([], "a.webm", { type: "audio/webm" })), service), 400, "audio_too_short");
    await expectError(
      await handleTranscribe(multipart(new File([new Uint8Array(2048)], "a.webm", { type: "audio/webm" })), service, { maxBytes: 1024 }),
      413,
      "payload_too_large",
    );
    await expectError(await handleTranscribe(multipart(new File([AUDIO], "a.mp4", { type: "video/mp4" })), service), 400, "invalid_audio_format");
    expect(provider.requests).toHaveLength(0);
  });
});
