/**
 * A {@link TranscriptionService} for any server that speaks OpenAI's `POST /audio/transcriptions`
 * (OpenAI, Azure-compatible gateways, Groq, LocalAI, faster-whisper-server, ...), over global `fetch`.
 */
import {
  DEFAULT_MAX_AUDIO_BYTES,
  FALLBACK_AUDIO_TYPE,
  SUPPORTED_AUDIO_TYPES,
  audioFilename,
  audioTypeFromFilename,
  isAcceptedAudioType,
  isUnlabelledAudioType,
} from "./audio-format.js";
import { TranscriptionError, transcriptionErrorFromStatus } from "./errors.js";
import { parseRetryAfter } from "./retry-after.js";
import { TranscriptionService, type TranscribeFileOptions } from "./transcription-service.js";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
const DEFAULT_MODEL = "whisper-1";
const DEFAULT_TIMEOUT_MS = 120_000;

/** Options of {@link OpenAITranscriptionService}. */
export interface OpenAITranscriptionServiceOptions {
  /**
   * Sent as `Authorization: Bearer <apiKey>`. Default: `OPENAI_API_KEY` from the environment. Required;
   * for a local server that ignores authentication pass any placeholder, such as `"none"`.
   */
  apiKey?: string;
  /** Default: `OPENAI_BASE_URL` from the environment, else `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Default `"whisper-1"`; for example `"gpt-4o-mini-transcribe"` or a local model name. */
  model?: string;
  /** ISO-639-1 language of the audio (for example `"en"`); improves accuracy and latency. */
  language?: string;
  /** Context or spelling hints for the model, in the audio's language. */
  prompt?: string;
  /** Sampling temperature between 0 and 1. */
  temperature?: number;
  /** Give up on the provider after this long (connect, upload and answer). Default 120 000 ms. */
  timeoutMs?: number;
  /** Refuse larger files with `payload_too_large` without calling the provider. Default 25 MiB. */
  maxBytes?: number;
  /** The `fetch` to use (tests, proxies, instrumentation). Default: global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Transcribes audio with an OpenAI-compatible `/audio/transcriptions` endpoint, translating its failures
 * into the `/transcribe` contract: 429 -> `rate_limited` (with `retryAfterSeconds` from `Retry-After`),
 * 401/403 -> `auth_failed`, 400 "too long" -> `audio_too_long`, 400 about the file -> `invalid_audio_format`,
 * other 4xx -> `invalid_request`, 5xx -> `provider_error` (retryable), no answer or a timeout ->
 * `network_error`. Empty files (`audio_too_short`), files over `maxBytes` (`payload_too_large`) and
 * non-audio types (`invalid_audio_format`) are refused before any request is made.
 *
 * The API key is resolved once, at construction; a missing key throws a `service_not_configured`
 * {@link TranscriptionError} there, so a misconfigured server fails at boot rather than on the first
 * recording.
 *
 * @example
 * ```ts
 * import { CopilotRuntime, OpenAITranscriptionService } from "copilot-runtime";
 *
 * const runtime = new CopilotRuntime({
 *   agents,
 *   transcriptionService: new OpenAITranscriptionService({ model: "gpt-4o-mini-transcribe", language: "en" }),
 * });
 * ```
 */
export class OpenAITranscriptionService extends TranscriptionService {
  readonly model: string;
  readonly baseURL: string;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly #apiKey: string;
  readonly #endpoint: string;
  readonly #fields: ReadonlyArray<readonly [string, string]>;
  readonly #fetch: typeof globalThis.fetch;

  constructor(options: OpenAITranscriptionServiceOptions = {}) {
    super();
    const env = globalThis.process?.env ?? {};
    const apiKey = options.apiKey ?? env.OPENAI_API_KEY;
    if (!apiKey) {
      throw new TranscriptionError(
        "service_not_configured",
        "OpenAITranscriptionService needs an API key: pass { apiKey } or set OPENAI_API_KEY",
      );
    }
    this.#apiKey = apiKey;
    this.baseURL = (options.baseURL ?? env.OPENAI_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.#endpoint = `${this.baseURL}/audio/transcriptions`;
    this.model = options.model ?? DEFAULT_MODEL;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_AUDIO_BYTES;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);

    const fields: Array<readonly [string, string]> = [
      ["model", this.model],
      ["response_format", "json"],
    ];
    if (options.language) fields.push(["language", options.language]);
    if (options.prompt) fields.push(["prompt", options.prompt]);
    if (options.temperature !== undefined) fields.push(["temperature", String(options.temperature)]);
    this.#fields = fields;
  }

  /**
   * Sends the file to the provider and returns its transcript.
   *
   * @example
   * ```ts
   * const text = await service.transcribeFile({ audioFile: new File([bytes], "memo.webm", { type: "audio/webm" }) });
   * ```
   */
  async transcribeFile({ audioFile, mimeType, signal }: TranscribeFileOptions): Promise<string> {
    if (audioFile.size === 0) throw new TranscriptionError("audio_too_short", "Audio file is empty");
    if (audioFile.size > this.maxBytes) {
      throw new TranscriptionError("payload_too_large", `Audio is larger than ${this.maxBytes} bytes`);
    }
    const type = resolveAudioType(mimeType || audioFile.type, audioFile.name);

    const form = new FormData();
    form.append("file", new File([audioFile], audioFilename(audioFile.name, type), { type }));
    for (const [name, value] of this.#fields) form.append(name, value);

    const { body, response } = await this.#post(form, signal);
    if (!response.ok) {
      throw transcriptionErrorFromStatus(response.status, {
        detail: this.#redactKey(providerErrorText(body)),
        ...withRetryAfter(response),
      });
    }
    return parseTranscript(body, response);
  }

  async #post(form: FormData, signal: AbortSignal | undefined): Promise<{ body: string; response: Response }> {
    if (signal?.aborted) throw cancelled(signal.reason);

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException("Transcription provider timed out", "TimeoutError"));
    }, this.timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });

    try {
      // The timeout covers reading the answer too: a provider that sends headers and then stalls is as
      // unreachable as one that never answers.
      const response = await this.#fetch(this.#endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#apiKey}`, accept: "application/json" },
        body: form,
        signal: controller.signal,
      });
      const body = await response.text();
      return { body, response };
    } catch (error) {
      if (timedOut) {
        throw new TranscriptionError(
          "network_error",
          `Transcription provider did not answer within ${this.timeoutMs} ms`,
          { cause: error },
        );
      }
      if (signal?.aborted) throw cancelled(error);
      throw new TranscriptionError("network_error", "Could not reach the transcription provider", { cause: error });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #redactKey(text: string): string {
    return this.#apiKey.length >= 4 ? text.split(this.#apiKey).join("[redacted]") : text;
  }
}

function resolveAudioType(type: string, filename: string): string {
  if (isUnlabelledAudioType(type)) return audioTypeFromFilename(filename) ?? FALLBACK_AUDIO_TYPE;
  if (isAcceptedAudioType(type)) return type;
  const shown = type.length > 100 ? `${type.slice(0, 100)}…` : type;
  throw new TranscriptionError(
    "invalid_audio_format",
    `Unsupported audio format: ${shown}. Supported: ${SUPPORTED_AUDIO_TYPES.join(", ")}`,
  );
}

function withRetryAfter(response: Response): { retryAfterSeconds?: number } {
  const seconds = parseRetryAfter(response.headers);
  return seconds === undefined ? {} : { retryAfterSeconds: seconds };
}

/** The provider's own explanation, from OpenAI's `{ error: { message } }` or common variants. */
function providerErrorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = parsed.error;
    if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
      return (error as { message: string }).message;
    }
    for (const candidate of [error, parsed.message, parsed.detail]) {
      if (typeof candidate === "string") return candidate;
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.slice(0, 1000);
}

function parseTranscript(body: string, response: Response): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Some compatible servers ignore `response_format` and answer text/plain.
    if ((response.headers.get("content-type") ?? "").startsWith("text/plain")) return body.trim();
    throw unreadable();
  }
  const text = typeof parsed === "object" && parsed !== null ? (parsed as { text?: unknown }).text : undefined;
  if (typeof text !== "string") throw unreadable();
  return text;
}

function unreadable(): TranscriptionError {
  return new TranscriptionError("provider_error", "Transcription provider returned an unreadable response");
}

function cancelled(cause: unknown): TranscriptionError {
  return new TranscriptionError("network_error", "Transcription was cancelled", { cause });
}
