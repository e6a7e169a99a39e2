/**
 * Argument checks and native-error mapping shared by the search functions (lib/similarity.ts,
 * lib/quantize.ts). Internal: not re-exported from the package.
 */
import { withCallerStack } from './native';

/** A short description of a value's type for TypeError messages ("Int8Array", "null", "an array"). */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (ArrayBuffer.isView(x)) return x.constructor.name;
  return typeof x;
}

/** A positive safe integer (at most 2^53 - 1, beyond which integers are not exact), else a TypeError / RangeError naming it. */
export function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a positive integer (got ${describe(value)})`);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer no larger than 2^53 - 1 (got ${value})`);
  }
  return value;
}

/** The options argument: `{}` when omitted, a TypeError naming it when not a plain object. */
export function optionsObject<T extends object>(value: unknown, name: string): T {
  if (value === undefined || value === null) return {} as T;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${name} must be an object (got ${describe(value)})`);
  return value as T;
}

/**
 * A native rejection as the caller should see it: argument errors stay TypeError / RangeError,
 * the rest are the SbertErrors the addon made; the stack is the caller's (taken before the await).
 */
export function nativeError(err: unknown, stack: string | undefined): unknown {
  if (err instanceof RangeError || err instanceof TypeError) {
    if (stack) err.stack = `${err.name}: ${err.message}\n${stack.split('\n').slice(1).join('\n')}`;
    return err;
  }
  return withCallerStack(err, stack);
}
