/**
 * tokenizer.json `post_processor`: the special tokens put around one text or a pair, as
 * templates (TemplateProcessing, BertProcessing, RobertaProcessing; a Sequence of one of them
 * with ByteLevel, which only moves offsets). Every special token id is checked against the
 * vocabulary size, so a bad id is refused here rather than at the first encode.
 */
import { SbertError, badModel } from '../errors';
import { MAX_NESTING, describe, isObj, quoted } from './json';
import type { PostProcessorSpec, TemplatePiece } from './spec';

function unsupportedType(file: string, what: string, type: unknown, supported: string): SbertError {
  return new SbertError(
    'ERR_UNSUPPORTED_TOKENIZER',
    `${file}: ${what} type "${String(type)}" is not supported (supported: ${supported})`,
  );
}

/**
 * A token id the way HF reads one (a u32) that must also name a token that exists: an integer
 * in [0, size). Without this a 1.5 becomes 1 and 2^32 + 101 becomes 101 in the Int32Array of ids.
 */
export function checkTokenId(v: unknown, size: number, file: string, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= size) {
    throw badModel(file, `${what}: id ${JSON.stringify(v)} is not a token id of this vocabulary (integers 0 to ${size - 1})`);
  }
  return v;
}

/** A type id as HF reads one (u32), kept to what an Int32Array holds. */
function checkTypeId(v: unknown, file: string, what: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw badModel(file, `${what}: type_id ${JSON.stringify(v)} is not a non-negative integer`);
  }
  return v;
}

/**
 * The post-processor's templates; every special token id is checked against `size` (model
 * vocabulary plus added tokens), so a bad id is refused here rather than at the first encode.
 */
export function parsePostProcessor(
  p: unknown,
  file: string,
  idOf: (token: string) => number | undefined,
  size: number,
  depth = 0,
): PostProcessorSpec | null {
  if (p === null || p === undefined) return null;
  if (depth > MAX_NESTING) throw badModel(file, `post_processor: components nest more than ${MAX_NESTING} levels deep`);
  if (!isObj(p)) throw badModel(file, 'post_processor is not an object');
  const special = (pair: unknown, what: string): { id: number; tok: string } => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
      throw badModel(file, `post_processor.${what} must be [token, id]`);
    }
    return { tok: pair[0], id: checkTokenId(pair[1], size, file, `post_processor.${what} ${quoted(pair[0])}`) };
  };
  const sp = (t: { id: number; tok: string }, typeId: number): TemplatePiece => ({
    kind: 'special',
    ids: [t.id],
    tokens: [t.tok],
    typeId,
  });
  switch (p.type) {
    case 'Sequence': {
      const list = Array.isArray(p.processors) ? p.processors : [];
      const parsed = list.filter((x) => !(isObj(x) && x.type === 'ByteLevel'));
      if (parsed.length === 0) return null;
      if (parsed.length === 1) return parsePostProcessor(parsed[0], file, idOf, size, depth + 1);
      const types = list.map((x) => (isObj(x) ? x.type : typeof x)).join(', ');
      throw unsupportedType(file, 'post_processor', `Sequence[${types}]`, 'TemplateProcessing, BertProcessing, RobertaProcessing, Sequence of one of them and ByteLevel');
    }
    case 'BertProcessing': {
      const cls = special(p.cls, 'cls');
      const sep = special(p.sep, 'sep');
      return {
        single: [sp(cls, 0), { kind: 'sequence', seq: 0, typeId: 0 }, sp(sep, 0)],
        pair: [sp(cls, 0), { kind: 'sequence', seq: 0, typeId: 0 }, sp(sep, 0), { kind: 'sequence', seq: 1, typeId: 1 }, sp(sep, 1)],
      };
    }
    case 'RobertaProcessing': {
      const cls = special(p.cls, 'cls');
      const sep = special(p.sep, 'sep');
      return {
        single: [sp(cls, 0), { kind: 'sequence', seq: 0, typeId: 0 }, sp(sep, 0)],
        pair: [
          sp(cls, 0),
          { kind: 'sequence', seq: 0, typeId: 0 },
          sp(sep, 0),
          sp(sep, 0),
          { kind: 'sequence', seq: 1, typeId: 0 },
          sp(sep, 0),
        ],
      };
    }
    case 'TemplateProcessing': {
      const specials = isObj(p.special_tokens) ? p.special_tokens : {};
      const parseTpl = (tpl: unknown, what: string): TemplatePiece[] => {
        if (!Array.isArray(tpl)) throw badModel(file, `post_processor ${what} template is not a list`);
        return tpl.map((piece): TemplatePiece => {
          if (isObj(piece) && isObj(piece.SpecialToken)) {
            const name = piece.SpecialToken.id;
            const typeId = checkTypeId(piece.SpecialToken.type_id, file, `post_processor ${what} template, ${quoted(String(name))}`);
            const def = typeof name === 'string' ? specials[name] : undefined;
            if (isObj(def) && Array.isArray(def.ids)) {
              const where = `post_processor.special_tokens[${quoted(String(name))}].ids`;
              return {
                kind: 'special',
                ids: def.ids.map((id, k) => checkTokenId(id, size, file, `${where}[${k}]`)),
                tokens: Array.isArray(def.tokens) ? def.tokens.map(String) : [String(name)],
                typeId,
              };
            }
            const id = typeof name === 'string' ? idOf(name) : undefined;
            if (id === undefined) throw badModel(file, `post_processor special token ${String(name)} is unknown`);
            return { kind: 'special', ids: [id], tokens: [String(name)], typeId };
          }
          if (isObj(piece) && isObj(piece.Sequence)) {
            const which = piece.Sequence.id;
            if (which !== 'A' && which !== 'B') throw badModel(file, `post_processor sequence id ${String(which)}`);
            return { kind: 'sequence', seq: which === 'A' ? 0 : 1, typeId: checkTypeId(piece.Sequence.type_id, file, `post_processor ${what} template, sequence ${which}`) };
          }
          throw badModel(file, `post_processor ${what} template has an unknown piece (${describe(piece)})`);
        });
      };
      const single = parseTpl(p.single, 'single');
      const pair = parseTpl(p.pair, 'pair');
      if (single.filter((x) => x.kind === 'sequence').length !== 1) {
        throw badModel(file, 'post_processor single template must hold sequence A once');
      }
      return { single, pair };
    }
    default:
      throw unsupportedType(file, 'post_processor', p.type, 'TemplateProcessing, BertProcessing, RobertaProcessing, Sequence, ByteLevel');
  }
}

