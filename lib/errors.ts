/**
 * One error class for everything sbert-native throws on purpose, so callers can branch on
 * `err.code` instead of parsing messages (the better-sqlite3 pattern). The addon creates
 * SbertErrors itself: lib/native.ts registers this class with it once, when it loads it.
 */
export type SbertErrorCode =
  | 'ERR_BAD_MODEL'
  | 'ERR_UNSUPPORTED_TOKENIZER'
  | 'ERR_DISPOSED'
  | 'ERR_CUDA'
  | 'ERR_CUDA_OOM'
  | 'ERR_NO_CUDA'
  | 'ERR_NATIVE'
  | 'ERR_BAD_DATA'
  | 'ERR_MISSING_DEPENDENCY'
  /** Native code was handed input it cannot run (e.g. a token id outside the vocabulary). */
  | 'ERR_BAD_INPUT'
  /** Host memory could not be allocated. */
  | 'ERR_OUT_OF_MEMORY'
  /**
   * This machine or build cannot run what was asked for, and says what is missing (a CPU
   * precision without the instructions it needs, 'fp16' on the CPU, an SBERT_CPU_ISA the CPU
   * lacks).
   */
  | 'ERR_UNSUPPORTED'
  /** An internal contract was broken (a bug: please report it). */
  | 'ERR_INTERNAL'
  // Hugging Face Hub (lib/hub): network/HTTP/integrity failure, token needed or refused,
  // repository/revision/file not found, offline and not in the cache.
  | 'ERR_HUB'
  | 'ERR_HUB_AUTH'
  | 'ERR_HUB_NOT_FOUND'
  | 'ERR_HUB_OFFLINE'
  // Bulk jobs (lib/queue): Redis cannot be reached; the job id or output folder is another
  // submitter's or another job's; a worker's model is not the job's; chunks failed for good.
  | 'ERR_QUEUE_UNREACHABLE'
  | 'ERR_JOB_CONFLICT'
  | 'ERR_MODEL_MISMATCH'
  | 'ERR_CHUNKS_FAILED';

/** The error sbert-native throws on purpose; branch on `code`. */
export class SbertError extends Error {
  readonly code: SbertErrorCode;
  constructor(code: SbertErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SbertError';
    this.code = code;
  }
}

/** A model folder or file that cannot be loaded; `file` is named in the message. */
export function badModel(file: string, reason: string, cause?: unknown): SbertError {
  return new SbertError('ERR_BAD_MODEL', `${file}: ${reason}`, cause === undefined ? undefined : { cause });
}
