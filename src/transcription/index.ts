export { TranscriptionService, type TranscribeFileOptions } from "./transcription-service.js";
export {
  TranscriptionError,
  TRANSCRIPTION_ERROR_STATUS,
  isTranscriptionError,
  toTranscriptionError,
  transcriptionErrorFromStatus,
  type ProviderFailure,
  type TranscriptionErrorBody,
  type TranscriptionErrorCode,
  type TranscriptionErrorOptions,
} from "./errors.js";
export { OpenAITranscriptionService, type OpenAITranscriptionServiceOptions } from "./openai.js";
export {
  parseTranscribeRequest,
  type ParseTranscribeRequestOptions,
  type TranscribeAudio,
} from "./request.js";
export { handleTranscribe, type HandleTranscribeOptions } from "./handle-transcribe.js";
export { createTranscriptionErrorResponse, createTranscriptionResponse } from "./response.js";
export {
  DEFAULT_MAX_AUDIO_BYTES,
  LENIENT_AUDIO_TYPES,
  SUPPORTED_AUDIO_TYPES,
  isAcceptedAudioType,
} from "./audio-format.js";
