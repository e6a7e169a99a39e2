/**
 * Reads a request body as JSON with a byte limit enforced while reading, before anything is
 * parsed: a declared Content-Length over the limit is refused without reading a byte, and a
 * chunked body is cut off as soon as it passes the limit. So one oversized request costs the
 * server at most `limit` bytes of memory.
 */
import type { IncomingMessage } from 'node:http';
import { badRequest, HttpError } from './errors';

/** Raised when the client goes away before its body arrived; there is nobody to answer. */
export class ClientGone extends Error {}

function overLimit(limit: number): HttpError {
  // The rest of an oversized body is not read: close the connection after answering.
  return new HttpError(413, 'Validation', `request body is larger than the limit of ${limit} bytes`, { Connection: 'close' });
}

/** The raw body, at most `limit` bytes; rejects with a 413 HttpError past the limit. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(overLimit(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, body?: Buffer) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      if (err) reject(err);
      else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish(overLimit(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined, Buffer.concat(chunks, size));
    const onClose = () => finish(new ClientGone('client closed the connection before sending its body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

/** The body parsed as JSON; 400 when it is not JSON, 413 past the limit. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) throw badRequest('request body is empty (expected a JSON object)');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
  }
}
