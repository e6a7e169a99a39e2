/**
 * tokenizer.json `decoder`: parsed into a DecoderSpec and applied by decode(). A decoder type
 * not implemented here still loads (encoding never needs it); decode() then refuses it.
 */
import { SbertError } from '../../errors';
import { prependScheme } from '../pre-tokenizers';
import { ParseCtx, boolField, charField, child, component, itemCtx, listField, stringField, uintField } from '../json';
import { Pattern, parsePattern } from '../pattern';
import type { DecoderSpec } from '../spec';
import { byteFallbackDecode, byteLevelDecode } from './byte';
import { wordPieceDecode } from './wordpiece';

export { cleanup } from './wordpiece';

const SUPPORTED = 'WordPiece, Metaspace, ByteLevel, BPEDecoder, Sequence, Replace, Strip, Fuse, ByteFallback';

/** The decoder of a tokenizer.json ({ type: 'none' } when there is none). */
export function parseDecoder(v: unknown, ctx: ParseCtx): DecoderSpec {
  if (v === null || v === undefined) return { type: 'none' };
  const d = component(v, ctx);
  switch (d.type) {
    case 'Sequence': {
      const list = listField(d, 'decoders', ctx);
      return {
        type: 'Sequence',
        decoders: list.map((x, k) => {
          const c = itemCtx(ctx, 'decoders', k);
          return parseDecoder(component(x, c), c);
        }),
      };
    }
    case 'WordPiece':
      return { type: 'WordPiece', prefix: stringField(d, 'prefix', '##', ctx), cleanup: boolField(d, 'cleanup', true, ctx) };
    case 'Metaspace':
      return { type: 'Metaspace', replacement: charField(d, 'replacement', undefined, ctx), prependScheme: prependScheme(d, ctx) };
    case 'ByteLevel':
    case 'Fuse':
    case 'ByteFallback':
      return { type: d.type };
    case 'BPEDecoder':
      return { type: 'BPEDecoder', suffix: stringField(d, 'suffix', '</w>', ctx) };
    case 'Replace':
      return { type: 'Replace', pattern: parsePattern(d.pattern, child(ctx, 'pattern')), content: stringField(d, 'content', undefined, ctx) };
    case 'Strip':
      return {
        type: 'Strip',
        content: charField(d, 'content', undefined, ctx),
        start: uintField(d, 'start', undefined, ctx),
        stop: uintField(d, 'stop', undefined, ctx),
      };
    default:
      return { type: 'unsupported', name: d.type };
  }
}

/** The first unsupported decoder in a spec, if any. */
function unsupportedName(d: DecoderSpec): string | undefined {
  if (d.type === 'unsupported') return d.name;
  if (d.type === 'Sequence') for (const x of d.decoders) {
    const n = unsupportedName(x);
    if (n !== undefined) return n;
  }
  return undefined;
}

function decodeChain(d: DecoderSpec, tokens: string[], patterns: Map<DecoderSpec, Pattern>): string[] {
  switch (d.type) {
    case 'none':
      return tokens;
    case 'Sequence':
      for (const x of d.decoders) tokens = decodeChain(x, tokens, patterns);
      return tokens;
    case 'WordPiece':
      return wordPieceDecode(tokens, d.prefix, d.cleanup);
    case 'Metaspace':
      return tokens.map((t, i) => {
        let s = '';
        for (const ch of t) s += ch === d.replacement ? (i === 0 && d.prependScheme !== 'never' ? '' : ' ') : ch;
        return s;
      });
    case 'ByteLevel':
      return byteLevelDecode(tokens);
    case 'ByteFallback':
      return byteFallbackDecode(tokens);
    case 'Fuse':
      return [tokens.join('')];
    case 'BPEDecoder':
      return tokens.map((t, i) => t.replaceAll(d.suffix, i === tokens.length - 1 ? '' : ' '));
    case 'Replace': {
      let p = patterns.get(d);
      if (p === undefined) patterns.set(d, (p = new Pattern(d.pattern)));
      const pat = p;
      return tokens.map((t) => pat.replace(t, d.content));
    }
    case 'Strip':
      return tokens.map((t) => {
        const chars = Array.from(t);
        let a = 0;
        for (let i = 0; i < Math.min(d.start, chars.length) && chars[i] === d.content; i++) a = i + 1;
        let b = chars.length;
        for (let i = 0; i < d.stop && chars.length - i - 1 >= 0; i++) {
          const k = chars.length - i - 1;
          if (chars[k] !== d.content) break;
          b = k;
        }
        return chars.slice(a, Math.max(a, b)).join('');
      });
    case 'unsupported':
      throw new Error('unreachable');
  }
}

/** HF Decoder::decode: the chain, then the pieces joined (no decoder: tokens joined by spaces). */
export class Decoder {
  private readonly patterns = new Map<DecoderSpec, Pattern>();
  constructor(
    private readonly spec: DecoderSpec,
    private readonly source: string,
  ) {}

  decode(tokens: string[]): string {
    if (this.spec.type === 'none') return tokens.join(' ');
    const name = unsupportedName(this.spec);
    if (name !== undefined) {
      throw new SbertError('ERR_UNSUPPORTED_TOKENIZER', `${this.source}: decoder type "${name}" is not supported (supported: ${SUPPORTED})`);
    }
    return decodeChain(this.spec, tokens, this.patterns).join('');
  }
}
