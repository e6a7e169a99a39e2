'use strict';
// A sentencepiece .model (protobuf ModelProto) -> tokenizer.json, written here from the
// layouts transformers' converters produce (XLMRobertaConverter: the fairseq id layout
// <s>=0 <pad>=1 </s>=2 <unk>=3, pieces shifted by one, <mask> last; SpmConverter's newer
// normalizer / Metaspace settings), so that real Precompiled charsmaps reach the tests.

/** Minimal protobuf wire-format reader: field number -> list of raw values. */
function readMessage(buf) {
  const fields = new Map();
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    let value;
    if (wire === 0) value = varint();
    else if (wire === 1) {
      value = buf.subarray(i, i + 8);
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 5) {
      value = buf.subarray(i, i + 4);
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (!fields.has(field)) fields.set(field, []);
    fields.get(field).push(value);
  }
  return fields;
}

const str = (b) => Buffer.from(b).toString('utf8');
const f32 = (b) => Buffer.from(b).readFloatLE(0);

/** The parts of a ModelProto the converters read. */
function parseModelProto(buf) {
  const m = readMessage(buf);
  const pieces = (m.get(1) || []).map((raw) => {
    const p = readMessage(raw);
    return {
      piece: str(p.get(1)[0]),
      score: p.has(2) ? f32(p.get(2)[0]) : 0,
      type: p.has(3) ? Number(p.get(3)[0]) : 1, // 1 NORMAL, 2 UNKNOWN, 3 CONTROL, 4 USER_DEFINED, 6 BYTE
    };
  });
  const t = readMessage(m.get(2)[0]);
  const num = (f, d) => (t.has(f) ? Number(BigInt.asIntN(32, t.get(f)[0])) : d);
  const trainer = {
    modelType: num(3, 1),
    byteFallback: num(35, 0) === 1,
    unkId: num(40, 0),
    unkPiece: t.has(45) ? str(t.get(45)[0]) : '<unk>',
  };
  const n = m.has(3) ? readMessage(m.get(3)[0]) : new Map();
  const normalizer = {
    name: n.has(1) ? str(n.get(1)[0]) : '',
    charsmap: n.has(2) ? Buffer.from(n.get(2)[0]) : Buffer.alloc(0),
  };
  return { pieces, trainer, normalizer };
}

const added = (id, content, extra = {}) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
  ...extra,
});

const special = (id, type_id = 0) => ({ SpecialToken: { id, type_id } });
const seq = (id, type_id = 0) => ({ Sequence: { id, type_id } });

/** XLM-R (xlm-roberta-base, paraphrase-multilingual-*, multilingual-e5) as its tokenizer.json has it. */
function xlmrTokenizerJson(proto) {
  if (proto.trainer.modelType !== 1) throw new Error('not a Unigram model');
  const vocab = [['<s>', 0.0], ['<pad>', 0.0], ['</s>', 0.0], ['<unk>', 0.0]];
  for (const p of proto.pieces.slice(3)) vocab.push([p.piece, p.score]);
  const maskId = vocab.length;
  vocab.push(['<mask>', 0.0]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<s>'), added(1, '<pad>'), added(2, '</s>'), added(3, '<unk>'), added(maskId, '<mask>', { lstrip: true })],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: proto.normalizer.charsmap.toString('base64') },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    // the older serialization (before prepend_scheme existed)
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('<s>'), seq('A'), special('</s>')],
      pair: [special('<s>'), seq('A'), special('</s>'), special('</s>'), seq('B'), special('</s>')],
      special_tokens: {
        '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
      },
    },
    decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true },
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  };
}

/**
 * The newer SpmConverter layout on the model's own ids (unk 0, <s> 1, </s> 2): Precompiled,
 * Strip(right), Replace(" {2,}" -> "▁"); Metaspace with prepend_scheme "first" (legacy=false),
 * byte_fallback from the model; a Llama-style decoder chain; a pair template with type ids 1.
 */
function spmTokenizerJson(proto) {
  if (proto.trainer.modelType !== 1) throw new Error('not a Unigram model');
  const vocab = proto.pieces.map((p) => [p.piece, p.score]);
  const addedTokens = [];
  proto.pieces.forEach((p, id) => {
    if (p.type === 2 || p.type === 3) addedTokens.push(added(id, p.piece));
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: proto.normalizer.charsmap.toString('base64') },
        { type: 'Strip', strip_left: false, strip_right: true },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '▁' },
      ],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('<s>'), seq('A'), special('</s>')],
      pair: [special('<s>'), seq('A'), special('</s>'), seq('B', 1), special('</s>', 1)],
      special_tokens: {
        '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
      },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: { type: 'Unigram', unk_id: proto.trainer.unkId, vocab, byte_fallback: proto.trainer.byteFallback },
  };
}

module.exports = { parseModelProto, xlmrTokenizerJson, spmTokenizerJson };
