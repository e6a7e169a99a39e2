/**
 * Errors the server answers with, in text-embeddings-inference's shape: `{ error, error_type }`
 * with TEI's error_type names, so TEI clients can branch on them (under the OpenAI routes the
 * server wraps them in OpenAI's error object; see server.ts). Thrown anywhere in a handler and
 * turned into the response in one place (server.ts).
 */

/**
 * TEI's error kinds (router/src/lib.rs `ErrorType`), plus NotFound for unknown routes and
 * models and Unauthorized for a missing or wrong API key (TEI answers those with a bare status).
 */
export type ServeErrorType = 'Validation' | 'Empty' | 'Tokenizer' | 'Overloaded' | 'Unhealthy' | 'Backend' | 'NotFound' | 'Unauthorized';

/** An HTTP error response: status, TEI error_type, a message for people, extra headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: ServeErrorType,
    message: string,
    readonly headers: Record<string, string> = {},
    /** OpenAI's `error.code` / `error.param` where OpenAI has one for this case (e.g. 'model_not_found'). */
    readonly openai: { code?: string; param?: string } = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** 400: the request is not what the endpoint takes (bad JSON, wrong type, unknown option). */
export function badRequest(message: string): HttpError {
  return new HttpError(400, 'Validation', message);
}

/** 413: the request is well-formed but over a limit (body size, inputs, tokens). */
export function tooLarge(message: string): HttpError {
  return new HttpError(413, 'Validation', message);
}

/** 424 (TEI's status for a route the served model's type cannot answer, e.g. sparse embeddings from a dense model). */
export function wrongModelType(message: string): HttpError {
  return new HttpError(424, 'Backend', message);
}
