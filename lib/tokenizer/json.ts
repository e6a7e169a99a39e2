/**
 * Reading tokenizer.json: small checked accessors and the errors every component parser
 * throws. A malformed file is ERR_BAD_MODEL, a well-formed component this package does not
 * implement is ERR_UNSUPPORTED_TOKENIZER; both name the file and the component's path in it
 * (e.g. `normalizer.normalizers[2]`).
 */
import { SbertError, badModel } from '../errors';

export type Json = Record<string, unknown>;

/** A JSON object (not null, not a list). */
export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Components nest (Sequence of Sequence of …); deeper than this is refused instead of
 * recursing until the stack overflows. Real files nest one or two levels.
 */
export const MAX_NESTING = 64;

/** Where a component parser is: the file and the component's path in it. */
export interface ParseCtx {
  file: string;
  path: string;
  depth: number;
}

/** The context of field `key` (or list index) of a component, one nesting level deeper. */
export function child(ctx: ParseCtx, key: string | number): ParseCtx {
  const path = typeof key === 'number' ? `${ctx.path}[${key}]` : `${ctx.path}.${key}`;
  if (ctx.depth + 1 > MAX_NESTING) {
    const root = /^[^.[]*/.exec(ctx.path)![0];
    throw badModel(ctx.file, `${root}: components nest more than ${MAX_NESTING} levels deep (at ${path.slice(0, 80)}…)`);
  }
  return { file: ctx.file, path, depth: ctx.depth + 1 };
}

/** The context of element k of the list field `key` (one nesting level deeper). */
export function itemCtx(ctx: ParseCtx, key: string, k: number): ParseCtx {
  return child({ ...ctx, path: `${ctx.path}.${key}` }, k);
}

/** ERR_BAD_MODEL naming the file and the component. */
export function bad(ctx: ParseCtx, reason: string): SbertError {
  return badModel(ctx.file, `${ctx.path}: ${reason}`);
}

/** ERR_UNSUPPORTED_TOKENIZER: a component type (or option) this package does not implement. */
export function unsupported(ctx: ParseCtx, type: unknown, supported: string): SbertError {
  return new SbertError(
    'ERR_UNSUPPORTED_TOKENIZER',
    `${ctx.file}: ${ctx.path} type "${String(type)}" is not supported (supported: ${supported})`,
  );
}

/** A short, safe description of any JSON value for an error message (never recursive). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return quoted(v);
  return String(v);
}

/** A token for an error message: quoted, and cut when long. */
export function quoted(tok: string): string {
  const q = JSON.stringify(tok);
  return q.length > 60 ? q.slice(0, 57) + '…"' : q;
}

/** A boolean field, or `dflt` when it is anything else. */
export function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

/** A required-or-defaulted boolean field; anything but a boolean (or absent/null) is refused. */
export function boolField(o: Json, key: string, dflt: boolean, ctx: ParseCtx): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw bad(ctx, `${key} must be a boolean (got ${describe(v)})`);
  return v;
}

/** A string field (required unless `dflt` is given). */
export function stringField(o: Json, key: string, dflt: string | undefined, ctx: ParseCtx): string {
  const v = o[key];
  if ((v === undefined || v === null) && dflt !== undefined) return dflt;
  if (typeof v !== 'string') throw bad(ctx, `${key} must be a string (got ${describe(v)})`);
  return v;
}

/** A field that must hold exactly one character (a Rust char). */
export function charField(o: Json, key: string, dflt: string | undefined, ctx: ParseCtx): string {
  const s = stringField(o, key, dflt, ctx);
  if (Array.from(s).length !== 1) throw bad(ctx, `${key} must be a single character (got ${quoted(s)})`);
  return s;
}

/** A non-negative integer field (a Rust usize / u32). */
export function uintField(o: Json, key: string, dflt: number | undefined, ctx: ParseCtx): number {
  const v = o[key];
  if ((v === undefined || v === null) && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw bad(ctx, `${key} must be a non-negative integer (got ${describe(v)})`);
  }
  return v;
}

/** The list field `key` (required). */
export function listField(o: Json, key: string, ctx: ParseCtx): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw bad(ctx, `${key} must be a list (got ${describe(v)})`);
  return v;
}

/** A component object with a string `type`. */
export function component(v: unknown, ctx: ParseCtx): Json & { type: string } {
  if (!isObj(v)) throw bad(ctx, `must be an object (got ${describe(v)})`);
  if (typeof v.type !== 'string') throw bad(ctx, `has no "type" (got ${describe(v.type)})`);
  return v as Json & { type: string };
}
