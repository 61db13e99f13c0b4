/**
 * The speech-to-text extension point, with CopilotKit's contract so an existing service class works
 * unchanged after switching the import.
 */

/** What `POST /transcribe` hands a {@link TranscriptionService}. */
export interface TranscribeFileOptions {
  /** The uploaded audio. Its `type` is already a supported audio MIME type. */
  audioFile: File;
  /** The MIME type of `audioFile` (for example `audio/webm;codecs=opus`). */
  mimeType?: string;
  /** Size of `audioFile` in bytes. */
  size?: number;
  /** Aborted when the browser goes away; pass it on to the provider call. */
  signal?: AbortSignal;
}

/**
 * Turns an audio file into text. Configure one as `transcriptionService` on the runtime to enable
 * `POST /transcribe` (and `audioFileTranscriptionEnabled` in `/info`).
 *
 * Throw a `TranscriptionError` to choose the HTTP response exactly; anything else thrown is classified
 * (rate limit, auth, too long, network, provider error) without echoing its text to the browser.
 *
 * @example
 * ```ts
 * import { TranscriptionService, type TranscribeFileOptions } from "copilot-runtime";
 *
 * class EchoSizeService extends TranscriptionService {
 *   async transcribeFile({ audioFile }: TranscribeFileOptions): Promise<string> {
 *     return `received ${audioFile.size} bytes`;
 *   }
 * }
 * ```
 */
export abstract class TranscriptionService {
  abstract transcribeFile(options: TranscribeFileOptions): Promise<string>;
}
