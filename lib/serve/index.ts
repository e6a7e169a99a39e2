/**
 * The embedding server (`sbert serve`, `createServer`): TEI- and OpenAI-compatible HTTP
 * endpoints over a SentenceEncoder, with admission control, metrics and graceful shutdown.
 */
export { createServer, EmbeddingServer } from './server';
export type { ServeEncoder } from './server';
export type { ServeOptions } from './options';
