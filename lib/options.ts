/**
 * Run-time checks of option objects, for JavaScript callers (TypeScript catches these at compile
 * time; most Node users do not have it): an unknown key is a TypeError that names it and the
 * closest valid key (`options.batchSize is not an option of encode; did you mean batchTokens?`),
 * and a value of the wrong type is a TypeError naming the key and what it must be. Value ranges
 * stay with the function that owns the option. One helper for every public function that takes
 * options (encoder, search, quantization, model folders, fit), so the wording is the same
 * everywhere.
 */

/** What a key's value must be: a type name, a list of allowed strings, or a custom check. */
export type OptionCheck =
  | 'any'
  | 'boolean'
  | 'string'
  | 'number'
  | 'function'
  | 'object'
  | 'AbortSignal'
  | readonly string[]
  | ((value: unknown, name: string) => void);

/** The checks of one function's options: every key it accepts. */
export type OptionSpec = Readonly<Record<string, OptionCheck>>;

export interface CheckOptionsContext {
  /** The function, for messages: "… is not an option of encode". */
  fn: string;
  /** How the argument is named in messages (default 'options'). */
  name?: string;
  /**
   * Keys people bring from elsewhere (sentence-transformers' Python names, other libraries) →
   * the key meant here, suggested before the nearest spelling.
   */
  aliases?: Readonly<Record<string, string>>;
}

/** A short description of a value for messages: 'yes' → "'yes'", 3 → "3", [] → "an array". */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v).replace(/^"|"$/g, "'");
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Letters only, lower-cased: `top_k`, `topK` and `TOP-K` all become `topk`. */
function fold(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Edit distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The valid name `name` most likely meant, or undefined: an alias, the same letters in another
 * case or separator style (`top_k` → `topK`), else the nearest spelling within a third of the
 * length (at least 1, at most 3 edits).
 */
export function closestName(name: string, valid: readonly string[], aliases: Readonly<Record<string, string>> = {}): string | undefined {
  if (Object.prototype.hasOwnProperty.call(aliases, name)) return aliases[name];
  const f = fold(name);
  for (const [alias, target] of Object.entries(aliases)) if (fold(alias) === f) return target;
  const same = valid.find((v) => fold(v) === f);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const v of valid) {
    const dist = editDistance(f, fold(v));
    if (dist < bestDistance) {
      best = v;
      bestDistance = dist;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.floor(f.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

/** " (did you mean X?)" or "" — for messages about a wrong name. */
export function didYouMean(name: string, valid: readonly string[], aliases?: Readonly<Record<string, string>>, quote = ''): string {
  const guess = closestName(name, valid, aliases);
  return guess === undefined ? '' : `; did you mean ${quote}${guess}${quote}?`;
}

const ARTICLE: Record<string, string> = { boolean: 'true or false', string: 'a string', number: 'a number', function: 'a function', object: 'an object', AbortSignal: 'an AbortSignal' };

function checkValue(check: OptionCheck, value: unknown, name: string): void {
  if (check === 'any') return;
  if (typeof check === 'function') return check(value, name);
  if (Array.isArray(check)) {
    const list = check.map((c) => `'${c}'`).join(', ');
    if (typeof value !== 'string') throw new TypeError(`${name} must be one of ${list} (got ${describeValue(value)})`);
    if (!check.includes(value)) throw new RangeError(`${name} must be one of ${list} (got ${describeValue(value)})${didYouMean(value, check, undefined, "'")}`);
    return;
  }
  const ok =
    check === 'AbortSignal' ? value instanceof AbortSignal
    : check === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
    : typeof value === check;
  if (!ok) throw new TypeError(`${name} must be ${ARTICLE[check as string]} (got ${describeValue(value)})`);
}

/**
 * Checks an options argument against `spec` and returns it (`{}` when undefined or null):
 * not an object → TypeError; a key not in `spec` → TypeError naming it and the closest valid
 * key; a value (other than undefined) of the wrong type → TypeError, a string not in its list →
 * RangeError, each naming `options.<key>`.
 */
export function checkOptions<T extends object>(value: unknown, spec: OptionSpec, context: CheckOptionsContext): T {
  const argName = context.name ?? 'options';
  if (value === undefined || value === null) return {} as T;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${argName} of ${context.fn} must be an object (got ${describeValue(value)})`);
  const keys = Object.keys(spec);
  for (const key of Object.keys(value)) {
    if (!Object.prototype.hasOwnProperty.call(spec, key)) {
      const hint = didYouMean(key, keys, context.aliases);
      throw new TypeError(`${argName}.${key} is not an option of ${context.fn}${hint}${hint ? '' : ` (its options: ${keys.join(', ')})`}`);
    }
  }
  const o = value as Record<string, unknown>;
  for (const key of keys) {
    if (o[key] !== undefined) checkValue(spec[key], o[key], `${argName}.${key}`);
  }
  return value as T;
}
