/**
 * The embedding server (`sbert serve`, `createServer`): TEI- and OpenAI-compatible HTTP
 * endpoints over a SentenceEncoder, with admission control, metrics, auth, CORS and graceful
 * shutdown.
 */
export { createServer, EmbeddingServer } from './server';
export type { ServeEncoder, ServeReranker, ServeModels, RouteSpec, RequestContext, Reply, EncodeRequest, ScoreRequest } from './server';
export type { ServeOptions } from './options';
export { openApiDocument } from './openapi';
