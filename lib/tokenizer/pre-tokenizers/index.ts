/**
 * tokenizer.json `pre_tokenizer`: parsed into a PreTokenizerSpec (checked, plain data) and
 * built into a PreTokenizer. One module per pre-tokenizer family; this file only dispatches.
 */
import { CharClass } from '../charclass';
import { ParseCtx, bad, boolField, charField, child, component, describe, itemCtx, listField, unsupported } from '../json';
import { parsePattern } from '../pattern';
import type { PreTokenizerSpec, SplitBehavior } from '../spec';
import { RUST_NUMERIC } from '../unicode-classes';
import { F_PUNCT, flagsOf } from '../unicode';
import { BertPreTokenizer } from './bert';
import { ByteLevelPreTokenizer } from './byte-level';
import { MetaspacePreTokenizer } from './metaspace';
import { CharSplitPreTokenizer, PreTokenizer } from './pre-tokenizer';
import { SequencePreTokenizer } from './sequence';
import { SplitPreTokenizer } from './split';
import { WhitespacePreTokenizer, WhitespaceSplitPreTokenizer } from './whitespace';

export type { PreTokenizer } from './pre-tokenizer';

const SUPPORTED =
  'Sequence, BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, CharDelimiterSplit, Split, Metaspace, ByteLevel';

const BEHAVIORS: readonly SplitBehavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

function behavior(v: unknown, dflt: SplitBehavior | undefined, ctx: ParseCtx): SplitBehavior {
  if ((v === undefined || v === null) && dflt !== undefined) return dflt;
  if (typeof v === 'string' && (BEHAVIORS as readonly string[]).includes(v)) return v as SplitBehavior;
  throw bad(ctx, `behavior must be one of ${BEHAVIORS.join(', ')} (got ${describe(v)})`);
}

/** Metaspace's prepend_scheme (or the older add_prefix_space), read as HF reads it (pre-tokenizer and decoder). */
export function prependScheme(p: Record<string, unknown>, ctx: ParseCtx): 'always' | 'first' | 'never' {
  const v = p.prepend_scheme;
  let scheme: 'always' | 'first' | 'never' = 'always';
  if (v !== undefined && v !== null) {
    if (v !== 'always' && v !== 'first' && v !== 'never') {
      throw bad(ctx, `prepend_scheme must be "always", "first" or "never" (got ${describe(v)})`);
    }
    scheme = v;
  }
  // the older form: add_prefix_space true/false (false must agree with prepend_scheme, as in HF)
  const add = p.add_prefix_space;
  if (add !== undefined && add !== null && typeof add !== 'boolean') throw bad(ctx, `add_prefix_space must be a boolean (got ${describe(add)})`);
  if (add === false && scheme !== 'never') {
    // HF refuses this too (prepend_scheme defaults to "always")
    throw bad(ctx, 'add_prefix_space: false does not match prepend_scheme (which defaults to "always")');
  }
  return scheme;
}

/** The pre-tokenizer of a tokenizer.json (null when there is none). */
export function parsePreTokenizer(v: unknown, ctx: ParseCtx): PreTokenizerSpec | null {
  if (v === null || v === undefined) return null;
  const p = component(v, ctx);
  switch (p.type) {
    case 'Sequence': {
      const list = listField(p, 'pretokenizers', ctx);
      return {
        type: 'Sequence',
        pretokenizers: list.map((x, k) => {
          const c = itemCtx(ctx, 'pretokenizers', k);
          return parsePreTokenizer(component(x, c), c)!;
        }),
      };
    }
    case 'BertPreTokenizer':
    case 'Whitespace':
    case 'WhitespaceSplit':
      return { type: p.type };
    case 'Punctuation':
      return { type: 'Punctuation', behavior: behavior(p.behavior, 'Isolated', ctx) };
    case 'Digits':
      return { type: 'Digits', individualDigits: boolField(p, 'individual_digits', false, ctx) };
    case 'CharDelimiterSplit':
      return { type: 'CharDelimiterSplit', delimiter: charField(p, 'delimiter', undefined, ctx) };
    case 'Split': {
      if (typeof p.invert !== 'boolean') throw bad(ctx, `invert must be a boolean (got ${describe(p.invert)})`);
      return {
        type: 'Split',
        pattern: parsePattern(p.pattern, child(ctx, 'pattern')),
        behavior: behavior(p.behavior, undefined, ctx),
        invert: p.invert,
      };
    }
    case 'Metaspace':
      return {
        type: 'Metaspace',
        replacement: charField(p, 'replacement', undefined, ctx),
        prependScheme: prependScheme(p, ctx),
        split: boolField(p, 'split', true, ctx),
      };
    case 'ByteLevel':
      return {
        type: 'ByteLevel',
        addPrefixSpace: boolField(p, 'add_prefix_space', true, ctx),
        useRegex: boolField(p, 'use_regex', true, ctx),
      };
    default:
      throw unsupported(ctx, p.type, SUPPORTED);
  }
}

let numeric: CharClass | null = null;

/** The PreTokenizer of a spec (specs are checked when parsed; this trusts them). */
export function buildPreTokenizer(spec: PreTokenizerSpec): PreTokenizer {
  switch (spec.type) {
    case 'Sequence':
      return new SequencePreTokenizer(spec.pretokenizers.map(buildPreTokenizer));
    case 'BertPreTokenizer':
      return new BertPreTokenizer();
    case 'Whitespace':
      return new WhitespacePreTokenizer();
    case 'WhitespaceSplit':
      return new WhitespaceSplitPreTokenizer();
    case 'Punctuation':
      return new CharSplitPreTokenizer((cp) => (flagsOf(cp) & F_PUNCT) !== 0, spec.behavior);
    case 'Digits': {
      const n = (numeric ??= new CharClass(RUST_NUMERIC));
      return new CharSplitPreTokenizer((cp) => n.has(cp), spec.individualDigits ? 'Isolated' : 'Contiguous');
    }
    case 'CharDelimiterSplit': {
      const d = spec.delimiter.codePointAt(0)!;
      return new CharSplitPreTokenizer((cp) => cp === d, 'Removed');
    }
    case 'Split':
      return new SplitPreTokenizer(spec.pattern, spec.behavior, spec.invert);
    case 'Metaspace':
      return new MetaspacePreTokenizer(spec.replacement, spec.prependScheme, spec.split);
    case 'ByteLevel':
      return new ByteLevelPreTokenizer(spec.addPrefixSpace, spec.useRegex);
  }
}
