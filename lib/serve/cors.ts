/**
 * CORS, as TEI's tower-http CorsLayer does it: any origin by default (`--cors-allow-origin`
 * narrows it to a list), methods GET and POST. A preflight (OPTIONS with an Origin and
 * Access-Control-Request-Method) is answered 204 here, before authentication — browsers send
 * preflights without credentials. Allowed request headers are Content-Type (TEI's) and
 * Authorization, without which a browser could not send the `--api-key` bearer token.
 */
import type { IncomingMessage } from 'node:http';

export class CorsPolicy {
  private readonly origins: Set<string> | undefined;

  /** `allow`: '*' or exact origins. */
  constructor(allow: '*' | readonly string[]) {
    this.origins = allow === '*' ? undefined : new Set(allow);
  }

  /**
   * The CORS headers of an answer to `req` (none when it has no Origin, or one not allowed: the
   * browser then refuses the response to the page, as the policy means).
   */
  headers(req: IncomingMessage): Record<string, string> | undefined {
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    if (!this.origins) return { 'Access-Control-Allow-Origin': '*' };
    if (!this.origins.has(origin)) return { Vary: 'Origin' };
    return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  }

  /** Whether `req` is a CORS preflight. */
  static isPreflight(req: IncomingMessage): boolean {
    return req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
  }

  /** The headers of the 204 answering a preflight. */
  preflightHeaders(req: IncomingMessage): Record<string, string> {
    const h: Record<string, string> = {
      ...this.headers(req),
      'Access-Control-Allow-Methods': 'GET, POST',
      'Access-Control-Allow-Headers': 'content-type, authorization',
      'Access-Control-Max-Age': '86400',
    };
    h.Vary = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
    return h;
  }
}
