/**
 * tokenizer.json `normalizer`: parsed into a NormalizerSpec (checked, plain data) and built
 * into a Normalizer. One module per normalizer family; this file only dispatches.
 */
import { NormalizerSpec } from '../spec';
import { ParseCtx, bad, boolField, child, component, describe, itemCtx, listField, stringField, unsupported } from '../json';
import { parsePattern } from '../pattern';
import { Charsmap, PrecompiledNormalizer } from './precompiled';
import { ByteLevelNormalizer } from './byte-level';
import { NmtNormalizer, StripAccentsNormalizer, StripNormalizer } from './filters';
import { ReplaceNormalizer } from './replace';
import { SequenceNormalizer } from './sequence';
import { BertNormalizer, LowercaseNormalizer, PrependNormalizer, UnicodeNormalizer } from './simple';
import type { Normalizer } from './normalizer';

export type { Normalizer } from './normalizer';

const SUPPORTED =
  'Sequence, BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend, Precompiled, Nmt, ByteLevel';

/** The normalizer of a tokenizer.json (null when there is none). */
export function parseNormalizer(v: unknown, ctx: ParseCtx): NormalizerSpec | null {
  if (v === null || v === undefined) return null;
  const n = component(v, ctx);
  switch (n.type) {
    case 'Sequence': {
      const list = listField(n, 'normalizers', ctx);
      return { type: 'Sequence', normalizers: list.map((x, k) => parseNormalizer(component(x, itemCtx(ctx, 'normalizers', k)), itemCtx(ctx, 'normalizers', k))!) };
    }
    case 'BertNormalizer': {
      const lowercase = boolField(n, 'lowercase', true, ctx);
      const strip = n.strip_accents;
      if (strip !== undefined && strip !== null && typeof strip !== 'boolean') {
        throw bad(ctx, `strip_accents must be a boolean or null (got ${describe(strip)})`);
      }
      return {
        type: 'BertNormalizer',
        options: {
          cleanText: boolField(n, 'clean_text', true, ctx),
          handleChineseChars: boolField(n, 'handle_chinese_chars', true, ctx),
          // strip_accents: null follows lowercase
          stripAccents: typeof strip === 'boolean' ? strip : lowercase,
          lowercase,
        },
      };
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
    case 'Lowercase':
    case 'StripAccents':
    case 'Nmt':
    case 'ByteLevel':
      return { type: n.type };
    case 'Strip':
      return { type: 'Strip', left: boolField(n, 'strip_left', true, ctx), right: boolField(n, 'strip_right', true, ctx) };
    case 'Replace':
      return { type: 'Replace', pattern: parsePattern(n.pattern, child(ctx, 'pattern')), content: stringField(n, 'content', undefined, ctx) };
    case 'Prepend':
      return { type: 'Prepend', prepend: stringField(n, 'prepend', undefined, ctx) };
    case 'Precompiled': {
      const b64 = n.precompiled_charsmap;
      if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
        throw bad(ctx, `precompiled_charsmap must be a base64 string (got ${describe(b64).slice(0, 40)})`);
      }
      const charsmap = new Uint8Array(Buffer.from(b64, 'base64'));
      try {
        new Charsmap(charsmap);
      } catch (e) {
        throw bad(ctx, (e as Error).message);
      }
      return { type: 'Precompiled', charsmap };
    }
    default:
      throw unsupported(ctx, n.type, SUPPORTED);
  }
}

/** The Normalizer of a spec (specs are checked when parsed; this trusts them). */
export function buildNormalizer(spec: NormalizerSpec): Normalizer {
  switch (spec.type) {
    case 'Sequence':
      return new SequenceNormalizer(spec.normalizers.map(buildNormalizer));
    case 'BertNormalizer':
      return new BertNormalizer(spec.options);
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return new UnicodeNormalizer(spec.type);
    case 'Lowercase':
      return new LowercaseNormalizer();
    case 'StripAccents':
      return new StripAccentsNormalizer();
    case 'Nmt':
      return new NmtNormalizer();
    case 'ByteLevel':
      return new ByteLevelNormalizer();
    case 'Strip':
      return new StripNormalizer(spec.left, spec.right);
    case 'Replace':
      return new ReplaceNormalizer(spec.pattern, spec.content);
    case 'Prepend':
      return new PrependNormalizer(spec.prepend);
    case 'Precompiled':
      return new PrecompiledNormalizer(spec.charsmap);
  }
}
