/**
 * The `pattern` of Replace (normalizer and decoder) and Split: {"String": s} (a literal, which
 * HF escapes into a regex) or {"Regex": r} (an Oniguruma regex, see onig-regex.ts).
 */
import { SbertError } from '../errors';
import { ParseCtx, bad, describe, isObj } from './json';
import { UnsupportedRegexError, compileOnigRegex, findMatches, literalRegex } from './onig-regex';
import type { PatternSpec } from './spec';

/** A Replace / Split `pattern` field; an Oniguruma regex JS cannot express is refused here. */
export function parsePattern(v: unknown, ctx: ParseCtx): PatternSpec {
  if (isObj(v) && typeof v.String === 'string' && Object.keys(v).length === 1) return { string: v.String };
  if (isObj(v) && typeof v.Regex === 'string' && Object.keys(v).length === 1) {
    compilePattern({ regex: v.Regex }, ctx); // refuse an untranslatable regex at load
    return { regex: v.Regex };
  }
  throw bad(ctx, `pattern must be {"String": …} or {"Regex": …} (got ${describe(v)})`);
}

/** The JS regex (flags gv) of a pattern. */
export function compilePattern(p: PatternSpec, ctx?: ParseCtx): RegExp {
  if ('string' in p) return literalRegex(p.string);
  try {
    return compileOnigRegex(p.regex);
  } catch (e) {
    if (!(e instanceof UnsupportedRegexError) || ctx === undefined) throw e;
    throw new SbertError(
      'ERR_UNSUPPORTED_TOKENIZER',
      `${ctx.file}: ${ctx.path} regex ${JSON.stringify(p.regex)} is not supported: ${e.message}`,
    );
  }
}

/** A compiled pattern with HF's find_matches. */
export class Pattern {
  readonly re: RegExp;
  private readonly scratch: number[] = [];

  constructor(spec: PatternSpec) {
    this.re = compilePattern(spec);
  }

  /** [start, end, isMatch] triples covering s (HF Pattern::find_matches); reused between calls. */
  matches(s: string): number[] {
    const out = this.scratch;
    out.length = 0;
    findMatches(this.re, s, out);
    return out;
  }

  /** Replace every match by `content` (HF NormalizedString::replace; Replace decoder). */
  replace(s: string, content: string): string {
    if (s.length === 0) return s;
    this.re.lastIndex = 0;
    if (!this.re.test(s)) return s;
    const m = this.matches(s);
    let out = '';
    for (let k = 0; k < m.length; k += 3) out += m[k + 2] ? content : s.slice(m[k], m[k + 1]);
    return out;
  }
}
