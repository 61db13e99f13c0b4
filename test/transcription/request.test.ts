import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_AUDIO_BYTES,
  TranscriptionError,
  parseTranscribeRequest,
  type TranscribeAudio,
} from "../../src/transcription/index.js";
import { decodeBase64Audio } from "../../src/transcription/base64.js";

const URL_ = "http://127.0.0.1/api/copilotkit/transcribe";
const AUDIO = new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x00, 0xff]);

function multipart(file: Blob | string | null, filename?: string, field = "audio"): Request {
  const form = new FormData();
  if (typeof file === "string") form.append(field, file);
  else if (file && filename !== undefined) form.append(field, file, filename);
  else if (file) form.append(field, file);
  form.append("other", "ignored");
  return new Request(URL_, { method: "POST", body: form });
}

function json(body: unknown): Request {
  return new Request(URL_, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

async function ok(request: Request, maxBytes?: number): Promise<TranscribeAudio> {
  const result = await parseTranscribeRequest(request, maxBytes === undefined ? {} : { maxBytes });
  if (result instanceof TranscriptionError) throw new Error(`expected audio, got ${result.code}: ${result.message}`);
  return result;
}

async function rejected(request: Request, maxBytes?: number): Promise<TranscriptionError> {
  const result = await parseTranscribeRequest(request, maxBytes === undefined ? {} : { maxBytes });
  expect(result).toBeInstanceOf(TranscriptionError);
  return result as TranscriptionError;
}

async function bytesOf(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

/**
 * A 16 MiB body of filler produced on demand, counting what the parser pulled from it. (Finite so that a
 * parser without a limit fails the assertions instead of exhausting memory.)
 */
function endlessBody(contentType: string, headers: Record<string, string> = {}) {
  const counter = { pulled: 0 };
  const chunk = new Uint8Array(64 * 1024).fill(0x41);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= 16 * 1024 * 1024) return controller.close();
      counter.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  const request = new Request(URL_, {
    method: "POST",
    body,
    headers: { "content-type": contentType, ...headers },
    duplex: "half",
  } as RequestInit);
  return { request, counter };
}

describe("parseTranscribeRequest: multipart/form-data", () => {
  it("returns the 'audio' file with its bytes, name and type", async () => {
    const audio = await ok(multipart(new File([AUDIO], "clip.webm", { type: "audio/webm;codecs=opus" })));
    expect(audio.mimeType).toBe("audio/webm;codecs=opus");
    expect(audio.size).toBe(AUDIO.byteLength);
    expect(audio.file.name).toBe("clip.webm");
    expect(await bytesOf(audio.file)).toEqual(AUDIO);
  });

  it.each(["audio/mpeg", "audio/mp3", "audio/mp4", "audio/wav", "audio/webm", "audio/ogg", "audio/flac", "audio/aac"])(
    "accepts %s",
    async (type) => {
      expect((await ok(multipart(new File([AUDIO], "a", { type })))).mimeType).toBe(type);
    },
  );

  it.each(["audio/x-wav", "audio/m4a", "audio/x-m4a"])("accepts %s (deliberate leniency)", async (type) => {
    expect((await ok(multipart(new File([AUDIO], "a", { type })))).mimeType).toBe(type);
  });

  it.each(["", "application/octet-stream"])("re-stamps a file typed %j as audio/webm named recording.webm", async (type) => {
    const audio = await ok(multipart(new File([AUDIO], "blob", { type })));
    expect(audio.mimeType).toBe("audio/webm");
    expect(audio.file.name).toBe("recording.webm");
    expect(await bytesOf(audio.file)).toEqual(AUDIO);
  });

  it.each(["video/mp4", "text/plain", "image/png", "audio/midi"])("refuses %s as invalid_audio_format", async (type) => {
    const error = await rejected(multipart(new File([AUDIO], "a", { type })));
    expect(error.code).toBe("invalid_audio_format");
    expect(error.message).toBe(
      `Unsupported audio format: ${type}. Supported: audio/mpeg, audio/mp3, audio/mp4, audio/wav, audio/webm, audio/ogg, audio/flac, audio/aac`,
    );
  });

  it("refuses a missing or non-file 'audio' field as invalid_request", async () => {
    expect((await rejected(multipart(new File([AUDIO], "a.webm", { type: "audio/webm" }), "a.webm", "file"))).code).toBe("invalid_request");
    expect((await rejected(multipart("not a file"))).code).toBe("invalid_request");
    expect((await rejected(multipart(null))).message).toBe("No audio file found in form data. Please include an 'audio' field.");
  });

  it("refuses an empty file as audio_too_short", async () => {
    const error = await rejected(multipart(new File([], "a.webm", { type: "audio/webm" })));
    expect(error).toMatchObject({ code: "audio_too_short", status: 400 });
  });

  it("refuses a file one byte over the limit as payload_too_large, and accepts one at the limit", async () => {
    expect((await ok(multipart(new File([new Uint8Array(100)], "a.webm", { type: "audio/webm" })), 100)).size).toBe(100);
    const error = await rejected(multipart(new File([new Uint8Array(101)], "a.webm", { type: "audio/webm" })), 100);
    expect(error).toMatchObject({ code: "payload_too_large", status: 413 });
  });

  it("enforces the 25 MiB default", async () => {
    expect(DEFAULT_MAX_AUDIO_BYTES).toBe(25 * 1024 * 1024);
    const error = await rejected(multipart(new File([new Uint8Array(DEFAULT_MAX_AUDIO_BYTES + 1)], "a.webm", { type: "audio/webm" })));
    expect(error.code).toBe("payload_too_large");
  });

  it("stops reading an endless upload soon after the limit", async () => {
    const { request, counter } = endlessBody("multipart/form-data; boundary=xyz");
    const error = await rejected(request, 1024 * 1024);
    expect(error.code).toBe("payload_too_large");
    expect(counter.pulled).toBeLessThan(2 * 1024 * 1024);
  });

  it("refuses a declared Content-Length over the limit without reading the body", async () => {
    const { request, counter } = endlessBody("multipart/form-data; boundary=xyz", { "content-length": String(50 * 1024 * 1024) });
    expect((await rejected(request, 1024 * 1024)).code).toBe("payload_too_large");
    expect(counter.pulled).toBeLessThanOrEqual(64 * 1024 * 2);
  });

  it("refuses a malformed multipart body as invalid_request", async () => {
    const request = new Request(URL_, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=abc" },
      body: "this is not multipart",
    });
    expect((await rejected(request)).code).toBe("invalid_request");
  });
});

describe("parseTranscribeRequest: application/json (single-route form)", () => {
  it("decodes base64 audio with its mimeType and filename", async () => {
    const audio = await ok(json({ audio: base64(AUDIO), mimeType: "audio/ogg", filename: "note.ogg" }));
    expect(audio).toMatchObject({ mimeType: "audio/ogg", size: AUDIO.byteLength });
    expect(audio.file.name).toBe("note.ogg");
    expect(await bytesOf(audio.file)).toEqual(AUDIO);
  });

  it("strips a data-URL prefix and defaults the name to recording.webm", async () => {
    const audio = await ok(json({ audio: `data:audio/webm;codecs=opus;base64,${base64(AUDIO)}`, mimeType: "audio/webm;codecs=opus" }));
    expect(audio.file.name).toBe("recording.webm");
    expect(audio.mimeType).toBe("audio/webm;codecs=opus");
    expect(await bytesOf(audio.file)).toEqual(AUDIO);
  });

  it("tolerates line-wrapped base64", async () => {
    const wrapped = base64(new Uint8Array(200).fill(7)).replace(/(.{76})/g, "$1\r\n");
    expect((await ok(json({ audio: wrapped, mimeType: "audio/wav" }))).size).toBe(200);
  });

  it("re-stamps application/octet-stream as audio/webm", async () => {
    const audio = await ok(json({ audio: base64(AUDIO), mimeType: "application/octet-stream", filename: "x.bin" }));
    expect(audio.mimeType).toBe("audio/webm");
    expect(audio.file.name).toBe("recording.webm");
  });

  it.each([
    ["not JSON", "{audio:", "Request body must be valid JSON"],
    ["an array", [], "Request body must be a JSON object"],
    ["no audio", { mimeType: "audio/webm" }, "Request must include 'audio' field with base64-encoded audio data"],
    ["audio not a string", { audio: 42, mimeType: "audio/webm" }, "Request must include 'audio' field with base64-encoded audio data"],
    ["no mimeType", { audio: "GkXfow==" }, "Request must include 'mimeType' field (e.g., 'audio/webm')"],
    ["a non-string filename", { audio: "GkXfow==", mimeType: "audio/webm", filename: 3 }, "'filename' must be a string"],
    ["invalid base64", { audio: "not base64!!", mimeType: "audio/webm" }, "Failed to decode base64 audio data"],
    ["misplaced padding", { audio: "GkX=fow=", mimeType: "audio/webm" }, "Failed to decode base64 audio data"],
    ["base64 of nothing", { audio: "data:audio/webm;base64,", mimeType: "audio/webm" }, "Failed to decode base64 audio data"],
  ])("refuses %s as invalid_request", async (_label, body, message) => {
    const error = await rejected(json(body));
    expect(error).toMatchObject({ code: "invalid_request", status: 400, message });
  });

  it("refuses a non-audio mimeType as invalid_audio_format", async () => {
    expect((await rejected(json({ audio: base64(AUDIO), mimeType: "video/webm" }))).code).toBe("invalid_audio_format");
  });

  it("applies the limit to the decoded size", async () => {
    expect((await ok(json({ audio: base64(new Uint8Array(16)), mimeType: "audio/webm" }), 16)).size).toBe(16);
    const error = await rejected(json({ audio: base64(new Uint8Array(17)), mimeType: "audio/webm" }), 16);
    expect(error).toMatchObject({ code: "payload_too_large", status: 413 });
  });

  it("refuses an oversized base64 body from its encoded length, before decoding it", async () => {
    // Invalid base64 of a too-large length: only a size check that precedes decoding can answer 413.
    const error = await rejected(json({ audio: "!".repeat(4000), mimeType: "audio/webm" }), 1000);
    expect(error.code).toBe("payload_too_large");
  });

  it("stops reading an endless JSON body soon after the encoded limit", async () => {
    const { request, counter } = endlessBody("application/json");
    expect((await rejected(request, 1024 * 1024)).code).toBe("payload_too_large");
    expect(counter.pulled).toBeLessThan(2 * 1024 * 1024);
  });
});

describe("parseTranscribeRequest: other content types", () => {
  it.each([["text/plain"], ["application/x-www-form-urlencoded"], [null]])("refuses %s as invalid_request", async (type) => {
    const request = new Request(URL_, { method: "POST", body: new Blob(["audio"], type ? { type } : {}) });
    const error = await rejected(request);
    expect(error).toMatchObject({
      code: "invalid_request",
      message: "Request must be multipart/form-data or application/json with base64 audio",
    });
  });
});

describe("decodeBase64Audio", () => {
  it("decodes across its internal slice boundary exactly", () => {
    const data = new Uint8Array(3 * 1024 * 1024 + 5);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 256;
    const decoded = decodeBase64Audio(base64(data), data.byteLength);
    // Buffer#equals, because a deep equality over 3 MB element by element takes seconds.
    expect(Buffer.from(decoded).equals(Buffer.from(data))).toBe(true);
    expect(decoded.byteLength).toBe(data.byteLength);
  });

  it("decodes unpadded base64", () => {
    expect(decodeBase64Audio("GkXfow", 10)).toEqual(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]));
  });
});
