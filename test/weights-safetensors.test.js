'use strict';
// safetensors reader: valid files, a suite of broken files, a byte-flipping property test, and
// bit-exact F16 / BF16 conversion.
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('path');
const fs = require('fs');
const w = require('../dist/weights');

const FIX = path.join(__dirname, 'fixtures');

const { rng: mulberry32 } = require('./helpers/random');

/** A small valid file: F32 [2,3], F16 [4], BF16 [2,2], I32 [3], an empty tensor, metadata. */
function sample() {
  return w.writeSafetensors(
    {
      a: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      h: { dtype: 'F16', shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001]) },
      b: { dtype: 'BF16', shape: [2, 2], data: new Uint16Array([0x3f80, 0x4000, 0xbf80, 0x0000]) },
      i: { dtype: 'I32', shape: [3], data: new Int32Array([7, -8, 9]) },
      z: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
    },
    { format: 'pt' },
  );
}

/** A file from a raw header object and a data section. */
function raw(header, dataLen = 0, headerLenOverride) {
  const hb = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + hb.length + dataLen);
  out.writeBigUInt64LE(BigInt(headerLenOverride ?? hb.length), 0);
  hb.copy(out, 8);
  return out;
}

function rejects(buf, name, ...needles) {
  const file = `/m/${name}.safetensors`;
  try {
    w.parseSafetensors(buf, file);
  } catch (err) {
    assert.instance(err, Error);
    assert.is(err.name, 'SbertError', `${name}: ${err.stack}`);
    assert.is(err.code, 'ERR_BAD_MODEL', name);
    assert.ok(err.message.startsWith(file + ': '), `${name}: message names the file: ${err.message}`);
    for (const n of needles) assert.ok(err.message.includes(n), `${name}: "${err.message}" should mention "${n}"`);
    return err;
  }
  assert.unreachable(`${name}: should have been rejected`);
}

test('parses a valid file: dtypes, shapes, metadata, zero-copy views', () => {
  const buf = sample();
  const st = w.parseSafetensors(buf, 'sample');
  assert.is(st.byteLength, buf.byteLength);
  assert.equal({ ...st.metadata }, { format: 'pt' });
  assert.equal([...st.tensors.keys()], ['a', 'h', 'b', 'i', 'z']);
  const a = st.tensors.get('a');
  assert.is(a.name, 'a');
  assert.is(a.dtype, 'F32');
  assert.equal(a.shape, [2, 3]);
  assert.is(a.bytes.buffer, buf.buffer, 'bytes is a view of the file buffer');
  assert.is(a.bytes.byteLength, 24);
  assert.equal(Array.from(w.toFloat32(a)), [1, 2, 3, 4, 5, 6]);
  assert.equal(Array.from(w.toFloat32(st.tensors.get('h'))), [1, -2, Infinity, 2 ** -24]);
  assert.equal(Array.from(w.toFloat32(st.tensors.get('b'))), [1, 2, -1, 0]);
  assert.equal(Array.from(w.toInt32(st.tensors.get('i'))), [7, -8, 9]);
  assert.is(st.tensors.get('z').bytes.byteLength, 0);
  assert.is(w.toFloat32(st.tensors.get('z')).length, 0);
  // Header padded so the data section is 8-byte aligned.
  assert.is((8 + Number(buf.readBigUInt64LE(0))) % 8, 0);
});

test('readSafetensors reads the fixture files', async () => {
  const st = await w.readSafetensors(path.join(FIX, 'tiny', 'model.safetensors'));
  assert.is(st.byteLength, fs.statSync(path.join(FIX, 'tiny', 'model.safetensors')).size);
  assert.is(st.metadata.format, 'pt');
  assert.equal(st.tensors.get('embeddings.word_embeddings.weight').shape, [30522, 32]);
  const ref = await w.readSafetensors(path.join(FIX, 'tiny', 'tiny-reference.safetensors'));
  const ids = ref.tensors.get('input_ids');
  assert.is(ids.dtype, 'I32');
  const arr = w.toInt32(ids);
  assert.is(arr.length, ids.shape[0] * ids.shape[1]);
  assert.is(arr[0], 101, 'first token is [CLS]');
  assert.equal(ref.tensors.get('st_encode').shape, [48, 32]);
  try {
    await w.readSafetensors(path.join(FIX, 'nope.safetensors'));
    assert.unreachable();
  } catch (err) {
    assert.is(err.code, 'ERR_BAD_MODEL');
    assert.match(err.message, /nope\.safetensors: file not found/);
  }
});

test('broken files are rejected with precise reasons', () => {
  const good = sample();
  rejects(Buffer.alloc(0), 'empty', 'shorter than the 8-byte header length');
  rejects(Buffer.alloc(7), 'seven-bytes', '7 bytes');
  rejects(good.subarray(0, 30), 'truncated-header', 'runs past the end of the file');
  rejects(good.subarray(0, good.length - 1), 'truncated-data', 'out of range');
  rejects(raw({}, 0, 1000), 'header-past-eof', 'header length 1000 runs past the end');
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(0xffffffffffffffffn, 0);
  rejects(huge, 'header-len-2^64', 'runs past the end');
  rejects(raw('{"a": {"dtype": "F32", '), 'bad-json', 'not valid UTF-8 JSON');
  rejects(raw('[1, 2, 3]'), 'array-header', 'does not start with "{"');
  rejects(raw('{}garbage'), 'trailing-garbage', 'not valid UTF-8 JSON');
  rejects(raw('x'), 'tiny-header', 'too small');
  const bad8 = raw('{"a":1}');
  bad8[10] = 0xff;
  rejects(bad8, 'invalid-utf8', 'UTF-8');
  rejects(raw({ a: 5 }), 'entry-not-object', 'tensor "a": header entry must be an object');
  rejects(raw({ a: { shape: [1], data_offsets: [0, 4] } }, 4), 'no-dtype', 'missing "dtype"');
  rejects(raw({ a: { dtype: 'F32', data_offsets: [0, 4] } }, 4), 'no-shape', 'missing "shape"');
  rejects(raw({ a: { dtype: 'F32', shape: [1] } }, 4), 'no-offsets', 'missing "data_offsets"');
  rejects(raw({ a: { dtype: 7, shape: [1], data_offsets: [0, 4] } }, 4), 'dtype-type', '"dtype" must be a string');
  rejects(raw({ a: { dtype: 'F12', shape: [1], data_offsets: [0, 4] } }, 4), 'unknown-dtype', 'unknown dtype "F12"');
  rejects(raw({ a: { dtype: 'F32', shape: '1', data_offsets: [0, 4] } }, 4), 'shape-type', '"shape" must be an array');
  rejects(raw({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), 'negative-dim', 'not a non-negative integer');
  rejects(raw({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4), 'fractional-dim', 'not a non-negative integer');
  rejects(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), 'offsets-len', 'must be an array [begin, end]');
  rejects(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, '4'] } }, 4), 'offsets-type', 'two non-negative integers');
  rejects(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, 4), 'offsets-negative', 'two non-negative integers');
  rejects(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4), 'begin-after-end', 'begin > end');
  rejects(raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4), 'out-of-range', 'out of range', '4 bytes');
  rejects(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [1e300, 1e300] } }, 4), 'offset-huge', 'two non-negative integers');
  rejects(raw({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), 'size-mismatch', 'needs 12');
  rejects(raw({ a: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 4] } }, 8), 'size-mismatch-f16', 'needs 8');
  rejects(raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), 'overlap', 'overlap', '"a"', '"b"');
  rejects(raw({ b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] }, a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, 12), 'overlap-unsorted', 'overlap');
  rejects(raw({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, 4), 'shape-overflow', 'too large');
  rejects(raw({ __metadata__: { format: 1 } }), 'metadata-value', '__metadata__ value for "format" must be a string');
  rejects(raw({ __metadata__: [] }), 'metadata-array', '__metadata__ must be an object');
  // Zero-sized tensors may share offsets with anything; gaps between tensors are allowed.
  const ok = raw({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, c: { dtype: 'U8', shape: [1], data_offsets: [10, 11] } }, 12);
  assert.is(w.parseSafetensors(ok, 'ok').tensors.size, 3);
});

// (Parse speed on these files is measured, not asserted: bench/safetensors-parse.js.)
test('property: random byte flips and truncations never crash or hang', () => {
  const good = sample();
  const rnd = mulberry32(0x5eed);
  const headerEnd = 8 + Number(good.readBigUInt64LE(0));
  let parsed = 0, rejected = 0;
  for (let it = 0; it < 600; it++) {
    const buf = Buffer.from(good);
    const flips = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < flips; k++) {
      // Mostly the length and the header, where structure lives; sometimes the data.
      const pos = rnd() < 0.85 ? Math.floor(rnd() * headerEnd) : Math.floor(rnd() * buf.length);
      buf[pos] = rnd() < 0.5 ? buf[pos] ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
    }
    const cut = rnd() < 0.2 ? buf.subarray(0, Math.floor(rnd() * buf.length)) : buf;
    try {
      const st = w.parseSafetensors(cut, 'fuzz');
      parsed++;
      for (const v of st.tensors.values()) {
        const end = v.bytes.byteOffset + v.bytes.byteLength;
        assert.ok(v.bytes.byteOffset >= cut.byteOffset + 8 && end <= cut.byteOffset + cut.byteLength);
        try {
          (['F32', 'F16', 'BF16', 'F64'].includes(v.dtype) ? w.toFloat32 : w.toInt32)(v);
        } catch (err) {
          assert.is(err.code, 'ERR_BAD_MODEL', err.stack);
        }
      }
    } catch (err) {
      if (err.code !== 'ERR_BAD_MODEL') throw err;
      rejected++;
    }
  }
  assert.ok(parsed > 0 && rejected > 0, `parsed ${parsed}, rejected ${rejected}`);
});

/** Reference half → number from the IEEE 754 definition. */
function halfRef(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

test('F16 → F32 is exact for all 65536 bit patterns (subnormals, ±0, ±inf, NaN payloads)', () => {
  const known = [
    [0x0000, 0], [0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0xfbff, -65504], [0x0400, 2 ** -14],
    [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x8001, -(2 ** -24)], [0x3555, 0.333251953125],
    [0x7c00, Infinity], [0xfc00, -Infinity],
  ];
  for (const [h, v] of known) assert.is(w.f16ToNumber(h), v, `0x${h.toString(16)}`);
  assert.ok(Object.is(w.f16ToNumber(0x8000), -0), '-0 keeps its sign');
  assert.ok(Number.isNaN(w.f16ToNumber(0x7e00)));
  assert.is(w.f16BitsToF32Bits(0x7c01), 0x7f802000, 'NaN payload preserved');
  assert.is(w.f16BitsToF32Bits(0xfe00), 0xffc00000);

  const all = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i;
  const st = w.parseSafetensors(w.writeSafetensors({ h: { dtype: 'F16', shape: [65536], data: all } }), 'f16');
  const f = w.toFloat32(st.tensors.get('h'));
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  for (let i = 0; i < 65536; i++) {
    const ref = halfRef(i);
    if (Number.isNaN(ref)) {
      assert.ok(Number.isNaN(f[i]));
      assert.is(bits[i], (((i & 0x8000) << 16) | 0x7f800000 | ((i & 0x3ff) << 13)) >>> 0, `NaN 0x${i.toString(16)}`);
    } else {
      assert.ok(Object.is(f[i], ref), `0x${i.toString(16)}: ${f[i]} vs ${ref}`);
      if (Number.isFinite(ref)) assert.is(w.numberToF16Bits(ref), i, `round trip 0x${i.toString(16)}`);
    }
  }
  // Round to nearest even in the test writer.
  assert.is(w.numberToF16Bits(1 + 2 ** -11), 0x3c00);
  assert.is(w.numberToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.is(w.numberToF16Bits(1e6), 0x7c00);
});

test('BF16 → F32 is exact for all 65536 bit patterns', () => {
  assert.is(w.bf16ToNumber(0x3f80), 1);
  assert.is(w.bf16ToNumber(0xc000), -2);
  assert.is(w.bf16ToNumber(0x7f80), Infinity);
  assert.is(w.bf16ToNumber(0xff80), -Infinity);
  assert.is(w.bf16ToNumber(0x0001), 2 ** -133, 'smallest subnormal');
  assert.is(w.bf16ToNumber(0x007f), 127 * 2 ** -133, 'largest subnormal');
  assert.is(w.bf16ToNumber(0x7f7f), 255 * 2 ** 120, 'largest finite');
  assert.ok(Number.isNaN(w.bf16ToNumber(0x7fc0)));
  assert.ok(Object.is(w.bf16ToNumber(0x8000), -0));
  const all = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i;
  const st = w.parseSafetensors(w.writeSafetensors({ b: { dtype: 'BF16', shape: [256, 256], data: all } }), 'bf16');
  const f = w.toFloat32(st.tensors.get('b'));
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  for (let i = 0; i < 65536; i++) assert.is(bits[i], (i << 16) >>> 0);
});

test('toFloat32: aligned F32 is a view, unaligned is a copy; non-float dtypes rejected', () => {
  const buf = w.writeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array([1.5, -2.25, 3]) } });
  const st = w.parseSafetensors(buf, 'x');
  const v = w.toFloat32(st.tensors.get('a'));
  assert.is(v.buffer, buf.buffer, 'zero-copy view');
  assert.equal(Array.from(v), [1.5, -2.25, 3]);
  // Same file at an odd byte offset: data no longer 4-byte aligned.
  const shifted = Buffer.alloc(buf.length + 1);
  buf.copy(shifted, 1);
  const st2 = w.parseSafetensors(shifted.subarray(1), 'y');
  const c = w.toFloat32(st2.tensors.get('a'));
  assert.is.not(c.buffer, shifted.buffer);
  assert.equal(Array.from(c), [1.5, -2.25, 3]);
  const f64 = w.parseSafetensors(w.writeSafetensors({ d: { dtype: 'F64', shape: [2], data: new Float64Array([0.5, 1e-3]) } }), 'z');
  assert.equal(Array.from(w.toFloat32(f64.tensors.get('d'))), [0.5, Math.fround(1e-3)]);
  const ints = w.parseSafetensors(w.writeSafetensors({
    i: { dtype: 'I64', shape: [2], data: new BigInt64Array([5n, -6n]) },
    big: { dtype: 'I64', shape: [1], data: new BigInt64Array([1n << 40n]) },
  }), 'ints');
  assert.throws(() => w.toFloat32(ints.tensors.get('i')), (e) => e.code === 'ERR_BAD_MODEL' && /I64 cannot be converted/.test(e.message));
  assert.equal(Array.from(w.toInt32(ints.tensors.get('i'))), [5, -6]);
  assert.throws(() => w.toInt32(ints.tensors.get('big')), (e) => e.code === 'ERR_BAD_MODEL' && /does not fit in int32/.test(e.message));
  assert.throws(() => w.writeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array(3) } }), RangeError);
});

test.run();
