/**
 * Which audio a `/transcribe` upload may carry, and the size limit shared by the endpoint and the
 * OpenAI-compatible service.
 */

/**
 * Default upload limit: 25 MiB, the OpenAI audio API's own limit.
 *
 * @example
 * ```ts
 * handleTranscribe(request, service, { maxBytes: DEFAULT_MAX_AUDIO_BYTES / 5 }); // 5 MiB instead
 * ```
 */
export const DEFAULT_MAX_AUDIO_BYTES = 25 * 1024 * 1024;

/**
 * The MIME base types CopilotKit's `/transcribe` accepts (also the list shown in its error message).
 *
 * @example
 * ```ts
 * SUPPORTED_AUDIO_TYPES.includes("audio/webm"); // true
 * ```
 */
export const SUPPORTED_AUDIO_TYPES: readonly string[] = Object.freeze([
  "audio/mpeg",
  "audio/mp3",
  "audio/mp4",
  "audio/wav",
  "audio/webm",
  "audio/ogg",
  "audio/flac",
  "audio/aac",
]);

/**
 * Extra base types we accept although CopilotKit answers 400 for them. A deliberate leniency: Safari and
 * Windows label the same WAV/M4A containers this way, and every OpenAI-compatible provider reads them.
 *
 * @example
 * ```ts
 * LENIENT_AUDIO_TYPES; // ["audio/x-wav", "audio/m4a", "audio/x-m4a"]
 * ```
 */
export const LENIENT_AUDIO_TYPES: readonly string[] = Object.freeze(["audio/x-wav", "audio/m4a", "audio/x-m4a"]);

/** What a file with no usable type is re-stamped as, per CopilotKit HEAD (the MediaRecorder default). */
export const FALLBACK_AUDIO_TYPE = "audio/webm";
/** The name given to a re-stamped file. */
export const FALLBACK_AUDIO_FILENAME = "recording.webm";

const ACCEPTED = new Set([...SUPPORTED_AUDIO_TYPES, ...LENIENT_AUDIO_TYPES]);

/** File extensions that name each accepted type; the first is the one we give a file. */
const EXTENSIONS_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  "audio/mpeg": ["mp3", "mpeg", "mpga"],
  "audio/mp3": ["mp3", "mpeg", "mpga"],
  "audio/mp4": ["mp4", "m4a"],
  "audio/m4a": ["m4a", "mp4"],
  "audio/x-m4a": ["m4a", "mp4"],
  "audio/wav": ["wav"],
  "audio/x-wav": ["wav"],
  "audio/webm": ["webm"],
  "audio/ogg": ["ogg", "oga", "opus"],
  "audio/flac": ["flac"],
  "audio/aac": ["aac"],
};

const KNOWN_EXTENSIONS = new Set(Object.values(EXTENSIONS_BY_TYPE).flat());

/**
 * The lower-cased MIME type without parameters: `"Audio/WebM; codecs=opus"` -> `"audio/webm"`.
 *
 * @example
 * ```ts
 * baseMimeType("audio/webm;codecs=opus"); // "audio/webm"
 * ```
 */
export function baseMimeType(type: string): string {
  return (type.split(";")[0] ?? "").trim().toLowerCase();
}

/**
 * Whether a type carries no usable information (empty or `application/octet-stream`), so the file is
 * re-stamped as {@link FALLBACK_AUDIO_TYPE}.
 *
 * @example
 * ```ts
 * isUnlabelledAudioType("application/octet-stream"); // true
 * ```
 */
export function isUnlabelledAudioType(type: string): boolean {
  const base = baseMimeType(type);
  return base === "" || base === "application/octet-stream";
}

/**
 * Whether a (possibly parameterised) MIME type is an accepted audio type.
 *
 * @example
 * ```ts
 * isAcceptedAudioType("audio/webm;codecs=opus"); // true
 * isAcceptedAudioType("video/mp4");              // false
 * ```
 */
export function isAcceptedAudioType(type: string): boolean {
  return ACCEPTED.has(baseMimeType(type));
}

/**
 * A file name whose extension matches the audio type. OpenAI-compatible servers choose the decoder from
 * the name, and CopilotKit's client names every upload `recording.webm` (Safari records `audio/mp4`), so
 * the declared type wins: a matching extension is kept, a different audio extension is replaced, and a
 * name without one gets one.
 *
 * @example
 * ```ts
 * audioFilename("blob", "audio/webm");            // "blob.webm"
 * audioFilename("memo.m4a", "audio/mp4");         // "memo.m4a"
 * audioFilename("recording.webm", "audio/mp4");   // "recording.mp4"
 * ```
 */
export function audioFilename(name: string, type: string): string {
  const extensions = EXTENSIONS_BY_TYPE[baseMimeType(type)] ?? ["webm"];
  const trimmed = name.trim() || "audio";
  const dot = trimmed.lastIndexOf(".");
  const extension = dot > 0 ? trimmed.slice(dot + 1).toLowerCase() : "";
  if (extensions.includes(extension)) return trimmed;
  const stem = KNOWN_EXTENSIONS.has(extension) ? trimmed.slice(0, dot) : trimmed;
  return `${stem}.${extensions[0]}`;
}

/**
 * Guesses an accepted audio type from a file name's extension, for files that arrive unlabelled.
 *
 * @example
 * ```ts
 * audioTypeFromFilename("voice.mp3"); // "audio/mpeg"
 * audioTypeFromFilename("blob");      // undefined
 * ```
 */
export function audioTypeFromFilename(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  if (dot < 0) return undefined;
  const extension = name.slice(dot + 1).toLowerCase();
  const byExtension: Record<string, string> = {
    mp3: "audio/mpeg",
    mpeg: "audio/mpeg",
    mpga: "audio/mpeg",
    mp4: "audio/mp4",
    m4a: "audio/mp4",
    wav: "audio/wav",
    webm: "audio/webm",
    ogg: "audio/ogg",
    oga: "audio/ogg",
    opus: "audio/ogg",
    flac: "audio/flac",
    aac: "audio/aac",
  };
  return byExtension[extension];
}
