import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { OpenAITranscriptionService, TranscriptionError } from "../../src/transcription/index.js";
import { closedLoopbackPort, expectedTranscript, startFakeOpenAI, type FakeOpenAI } from "./fake-openai-server.js";

const API_KEY = "sk-test-0123456789abcdef";
/** A few bytes that are not valid UTF-8, so any re-encoding on the way would show. */
const AUDIO = new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x00, 0xff, 0xfe, 0x80, 0x0d, 0x0a, 0x2d, 0x2d, 0x42]);

let provider: FakeOpenAI;

beforeAll(async () => {
  provider = await startFakeOpenAI({ apiKey: API_KEY, models: ["whisper-1", "gpt-4o-mini-transcribe"] });
});
afterAll(async () => {
  await provider.close();
});
afterEach(() => {
  provider.behaviour = "ok";
  provider.requests.length = 0;
  vi.unstubAllEnvs();
});

function service(options: ConstructorParameters<typeof OpenAITranscriptionService>[0] = {}) {
  return new OpenAITranscriptionService({ apiKey: API_KEY, baseURL: provider.baseURL, ...options });
}

function webm(name = "recording.webm", type = "audio/webm;codecs=opus", data: Uint8Array<ArrayBuffer> = AUDIO): File {
  return new File([data], name, { type });
}

async function failure(promise: Promise<unknown>): Promise<TranscriptionError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the transcription to fail");
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TranscriptionError);
  return error as TranscriptionError;
}

describe("OpenAITranscriptionService against an OpenAI-compatible server", () => {
  it("uploads the file as multipart with the bearer key and model, and returns the transcript", async () => {
    const text = await service().transcribeFile({ audioFile: webm() });

    expect(text).toBe(expectedTranscript("recording.webm", AUDIO));
    expect(provider.requests).toHaveLength(1);
    const [request] = provider.requests;
    expect(request!.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(request!.parts.get("model")!.data.toString()).toBe("whisper-1");
    const file = request!.parts.get("file")!;
    expect(file.filename).toBe("recording.webm");
    expect(file.contentType).toBe("audio/webm;codecs=opus");
    expect(new Uint8Array(file.data)).toEqual(AUDIO);
  });

  it("sends the configured model, language, prompt and temperature", async () => {
    await service({ model: "gpt-4o-mini-transcribe", language: "de", prompt: "CopilotKit, AG-UI", temperature: 0.2 }).transcribeFile({
      audioFile: webm(),
    });
    const parts = provider.requests[0]!.parts;
    expect(parts.get("model")!.data.toString()).toBe("gpt-4o-mini-transcribe");
    expect(parts.get("language")!.data.toString()).toBe("de");
    expect(parts.get("prompt")!.data.toString()).toBe("CopilotKit, AG-UI");
    expect(parts.get("temperature")!.data.toString()).toBe("0.2");
  });

  it("gives an extensionless upload a file name the provider can decode", async () => {
    const text = await service().transcribeFile({ audioFile: webm("blob", "audio/mpeg") });
    expect(text).toBe(expectedTranscript("blob.mp3", AUDIO));
  });

  it("renames a file whose extension contradicts its type (Safari records audio/mp4 as recording.webm)", async () => {
    await service().transcribeFile({ audioFile: webm("recording.webm", "audio/mp4") });
    await service().transcribeFile({ audioFile: webm("memo.m4a", "audio/mp4") });
    await service().transcribeFile({ audioFile: webm("take.2", "audio/ogg;codecs=opus") });
    expect(provider.requests.map((r) => r.parts.get("file")!.filename)).toEqual(["recording.mp4", "memo.m4a", "take.2.ogg"]);
  });

  it("reads the key and base URL from OPENAI_API_KEY and OPENAI_BASE_URL", async () => {
    vi.stubEnv("OPENAI_API_KEY", API_KEY);
    vi.stubEnv("OPENAI_BASE_URL", `${provider.baseURL}/`);
    const fromEnv = new OpenAITranscriptionService();
    expect(fromEnv.baseURL).toBe(provider.baseURL);
    expect(fromEnv.model).toBe("whisper-1");
    await expect(fromEnv.transcribeFile({ audioFile: webm() })).resolves.toBe(expectedTranscript("recording.webm", AUDIO));
  });

  it("refuses to construct without an API key", () => {
    vi.stubEnv("OPENAI_API_KEY", "");
    let caught: unknown;
    try {
      new OpenAITranscriptionService({ baseURL: provider.baseURL });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TranscriptionError);
    expect((caught as TranscriptionError).code).toBe("service_not_configured");
    expect((caught as TranscriptionError).message).toMatch(/OPENAI_API_KEY/);
  });

  it("defaults to api.openai.com when no base URL is configured", () => {
    vi.stubEnv("OPENAI_BASE_URL", "");
    delete process.env.OPENAI_BASE_URL;
    expect(new OpenAITranscriptionService({ apiKey: "k" }).baseURL).toBe("https://api.openai.com/v1");
  });
});

describe("OpenAITranscriptionService refuses bad input without calling the provider", () => {
  it("an empty file is audio_too_short", async () => {
    const error = await failure(service().transcribeFile({ audioFile: webm("a.webm", "audio/webm", new Uint8Array()) }));
    expect(error.code).toBe("audio_too_short");
    expect(error.status).toBe(400);
    expect(provider.requests).toHaveLength(0);
  });

  it("a file over maxBytes is payload_too_large (413)", async () => {
    const error = await failure(service({ maxBytes: 8 }).transcribeFile({ audioFile: webm() }));
    expect(error.code).toBe("payload_too_large");
    expect(error.status).toBe(413);
    expect(provider.requests).toHaveLength(0);
  });

  it("a non-audio type is invalid_audio_format", async () => {
    const error = await failure(service().transcribeFile({ audioFile: webm("notes.txt", "text/plain") }));
    expect(error.code).toBe("invalid_audio_format");
    expect(error.status).toBe(400);
    expect(error.message).toContain("text/plain");
    expect(provider.requests).toHaveLength(0);
  });

  it("an unlabelled file is typed from its name, or sent as webm", async () => {
    await service().transcribeFile({ audioFile: webm("memo.wav", "") });
    await service().transcribeFile({ audioFile: webm("blob", "application/octet-stream") });
    expect(provider.requests.map((r) => [r.parts.get("file")!.filename, r.parts.get("file")!.contentType])).toEqual([
      ["memo.wav", "audio/wav"],
      ["blob.webm", "audio/webm"],
    ]);
  });
});

describe("OpenAITranscriptionService classifies provider failures", () => {
  it("429 -> rate_limited, retryable, with Retry-After exposed", async () => {
    provider.behaviour = "rate-limited";
    const error = await failure(service().transcribeFile({ audioFile: webm() }));
    expect(error).toMatchObject({ code: "rate_limited", status: 429, retryable: true, retryAfterSeconds: 7, providerStatus: 429 });
    expect(error.message).toBe("Rate limited. Please try again later.");
  });

  it("401 -> auth_failed, and the key echoed by the provider goes nowhere near the message", async () => {
    provider.behaviour = "unauthorized";
    const error = await failure(service().transcribeFile({ audioFile: webm() }));
    expect(error).toMatchObject({ code: "auth_failed", status: 401, retryable: false });
    expect(JSON.stringify(error.toJSON())).not.toContain(API_KEY);
    expect(error.message).not.toContain("sk-");
    expect(error.providerMessage).toContain("Incorrect API key provided");
    expect(error.providerMessage).not.toContain(API_KEY);
  });

  it("a wrong key (checked by the server) -> auth_failed", async () => {
    const error = await failure(service({ apiKey: "sk-wrong-key-123456" }).transcribeFile({ audioFile: webm() }));
    expect(error.code).toBe("auth_failed");
    expect(error.providerMessage).not.toContain("sk-wrong-key-123456");
  });

  it("a key that looks like no known key format is still kept out of providerMessage", async () => {
    const key = "local-gateway-credential-42";
    const local = await startFakeOpenAI({ apiKey: "something-else" });
    try {
      const error = await failure(
        new OpenAITranscriptionService({ apiKey: key, baseURL: local.baseURL }).transcribeFile({ audioFile: webm() }),
      );
      expect(error.code).toBe("auth_failed");
      expect(error.providerMessage).toContain("Incorrect API key provided: [redacted]");
      expect(error.providerMessage).not.toContain(key);
    } finally {
      await local.close();
    }
  });

  it("403 -> auth_failed", async () => {
    provider.behaviour = "forbidden";
    expect((await failure(service().transcribeFile({ audioFile: webm() }))).code).toBe("auth_failed");
  });

  it("400 'too long' -> audio_too_long", async () => {
    provider.behaviour = "too-long";
    const error = await failure(service().transcribeFile({ audioFile: webm() }));
    expect(error).toMatchObject({ code: "audio_too_long", status: 400, retryable: false });
    expect(error.message).toBe("Audio file is too long");
  });

  it("400 'invalid file format' -> invalid_audio_format", async () => {
    provider.behaviour = "bad-format";
    const error = await failure(service().transcribeFile({ audioFile: webm() }));
    expect(error).toMatchObject({ code: "invalid_audio_format", status: 400 });
  });

  it("an unknown model (404) -> provider_error, not retryable", async () => {
    const error = await failure(service({ model: "no-such-model" }).transcribeFile({ audioFile: webm() }));
    expect(error).toMatchObject({ code: "provider_error", status: 500, retryable: false, providerStatus: 404 });
  });

  it("500 -> provider_error, retryable, without the provider's text", async () => {
    provider.behaviour = "server-error";
    const error = await failure(service().transcribeFile({ audioFile: webm() }));
    expect(error).toMatchObject({ code: "provider_error", status: 500, retryable: true, providerStatus: 500 });
    expect(error.message).not.toContain("processing your request");
  });

  it("503 with an HTML body -> provider_error", async () => {
    provider.behaviour = "unavailable";
    expect((await failure(service().transcribeFile({ audioFile: webm() }))).code).toBe("provider_error");
  });

  it("a 200 that is not JSON -> provider_error", async () => {
    provider.behaviour = "garbage";
    const error = await failure(service().transcribeFile({ audioFile: webm() }));
    expect(error.code).toBe("provider_error");
  });

  it("a dropped connection -> network_error 502", async () => {
    provider.behaviour = "drop-connection";
    const error = await failure(service().transcribeFile({ audioFile: webm() }));
    expect(error).toMatchObject({ code: "network_error", status: 502, retryable: true });
    expect(provider.requests).toHaveLength(1);
  });

  it("nothing listening -> network_error", async () => {
    const port = await closedLoopbackPort();
    const error = await failure(service({ baseURL: `http://127.0.0.1:${port}/v1` }).transcribeFile({ audioFile: webm() }));
    expect(error.code).toBe("network_error");
  });

  it("a response slower than timeoutMs -> network_error, promptly", async () => {
    provider.behaviour = "slow";
    const started = Date.now();
    const error = await failure(service({ timeoutMs: 200 }).transcribeFile({ audioFile: webm() }));
    expect(error.code).toBe("network_error");
    expect(error.message).toMatch(/200 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("the caller's abort signal cancels the provider call", async () => {
    provider.behaviour = "slow";
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(service().transcribeFile({ audioFile: webm(), signal: controller.signal }));
    expect(error.code).toBe("network_error");
    expect(error.message).toBe("Transcription was cancelled");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("a custom fetch is used instead of the global one", async () => {
    const seen: string[] = [];
    const fetchSpy: typeof fetch = async (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    await service({ fetch: fetchSpy }).transcribeFile({ audioFile: webm() });
    expect(seen).toEqual([`${provider.baseURL}/audio/transcriptions`]);
  });
});
