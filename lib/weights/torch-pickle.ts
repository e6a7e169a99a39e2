/**
 * pytorch_model.bin without running code: reads the files `torch.save` writes — the zip format
 * (PyTorch ≥ 1.6: `<name>/data.pkl` plus one `<name>/data/<key>` entry per storage) and the
 * legacy format (a magic-number pickle, a protocol pickle, a sys-info pickle, the object pickle,
 * the storage-key list, then each storage as an 8-byte element count and its bytes) — into the
 * same `SafetensorsFile` shape lib/weights/safetensors.ts produces.
 *
 * Python's pickle is a stack machine that can call any importable function (`os.system`,
 * `builtins.eval`, …): loading an untrusted pickle with `pickle.load` runs code. This reader is
 * its own interpreter that knows only the opcodes torch uses for state dicts and only these
 * globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` / `_rebuild_tensor` /
 * `_rebuild_parameter` / `_rebuild_parameter_with_state`, and the `torch.*Storage` types (which
 * may only appear inside a storage's persistent id). Each of them is implemented here in
 * TypeScript; nothing named in the file is ever looked up or called. Any other global or opcode
 * (INST, OBJ, NEWOBJ, EXT*, …) is refused with ERR_BAD_MODEL naming it.
 *
 * Tensors are validated against their storage (offset, sizes and strides inside the storage);
 * contiguous tensors are zero-copy views of the file buffer, others (transposed, sliced) are
 * copied into row-major order.
 */
import * as path from 'path';
import { readBoundedFile } from '../bounded-file';
import { badModel } from '../errors';
import { DTYPE_SIZE, Dtype, SafetensorsFile, TensorView } from './safetensors';
import { entryExists } from './util';
import { looksLikeZip, readZipEntries, ZipEntry } from './zip';

/** torch's storage class names and the element type each holds. */
const STORAGE_DTYPES: Readonly<Record<string, Dtype>> = Object.freeze({
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
});

// ---------------------------------------------------------------------------------------------
// Values the restricted unpickler builds

/** A Python tuple (a frozen array, so it is told apart from a list). */
type PyTuple = readonly PyValue[];
type PyValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PyValue[] | PyTuple | Map<PyValue, PyValue>
  | StorageType | StorageRef | TensorRef | AllowedCallable | Mark;

class Mark {}
const MARK = new Mark();

class StorageType {
  constructor(readonly className: string, readonly dtype: Dtype) {}
}

/** A storage named by a persistent id; its bytes are found after unpickling. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: Dtype,
    readonly numel: number,
    /** Legacy views: element offset into the root storage `key`. */
    readonly viewOffset = 0,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** One of the few Python callables a torch state dict may use, implemented here. */
class AllowedCallable {
  constructor(readonly qualifiedName: string, readonly call: (args: PyTuple, fail: Fail) => PyValue) {}
}

type Fail = (reason: string) => never;

const isTuple = (v: PyValue): v is PyTuple => Array.isArray(v) && Object.isFrozen(v);

function intArg(v: PyValue, what: string, fail: Fail): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return fail(`${what} must be a non-negative integer, got ${describe(v)}`);
}

function intTuple(v: PyValue, what: string, fail: Fail): number[] {
  if (!isTuple(v) && !Array.isArray(v)) fail(`${what} must be a tuple of integers, got ${describe(v)}`);
  if ((v as PyValue[]).length > 64) fail(`${what} has ${(v as PyValue[]).length} dimensions`);
  return (v as PyValue[]).map((d, i) => intArg(d, `${what}[${i}]`, fail));
}

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return isTuple(v) ? 'a tuple' : 'a list';
  if (v instanceof TensorRef) return 'a tensor';
  if (v instanceof StorageRef) return 'a storage';
  if (v instanceof StorageType) return `torch.${v.className}`;
  if (v instanceof AllowedCallable) return v.qualifiedName;
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return `${typeof v} ${String(v)}`;
}

function rebuildTensor(args: PyTuple, fail: Fail, name: string, minArgs: number): TensorRef {
  if (args.length < minArgs || args.length > 7) fail(`${name} called with ${args.length} arguments`);
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) return fail(`${name}: first argument must be a storage, got ${describe(storage)}`);
  const t = new TensorRef(storage, intArg(offset, `${name} storage_offset`, fail), intTuple(size, `${name} size`, fail), intTuple(stride, `${name} stride`, fail));
  if (t.size.length !== t.stride.length) fail(`${name}: size has ${t.size.length} dimensions, stride ${t.stride.length}`);
  return t;
}

function rebuildParameter(args: PyTuple, fail: Fail, name: string, arity: number): TensorRef {
  if (args.length !== arity) fail(`${name} called with ${args.length} arguments, expected ${arity}`);
  if (!(args[0] instanceof TensorRef)) return fail(`${name}: data must be a tensor, got ${describe(args[0])}`);
  return args[0];
}

/** The globals a state dict may name: `module.name` → what it is. */
const ALLOWED_GLOBALS: ReadonlyMap<string, PyValue> = new Map<string, PyValue>([
  ['collections.OrderedDict', new AllowedCallable('collections.OrderedDict', (args, fail) => {
    if (args.length !== 0) fail(`collections.OrderedDict called with ${args.length} arguments`);
    return new Map<PyValue, PyValue>();
  })],
  ['torch._utils._rebuild_tensor_v2', new AllowedCallable('torch._utils._rebuild_tensor_v2', (a, f) => rebuildTensor(a, f, '_rebuild_tensor_v2', 6))],
  ['torch._utils._rebuild_tensor', new AllowedCallable('torch._utils._rebuild_tensor', (a, f) => rebuildTensor(a, f, '_rebuild_tensor', 4))],
  ['torch._utils._rebuild_parameter', new AllowedCallable('torch._utils._rebuild_parameter', (a, f) => rebuildParameter(a, f, '_rebuild_parameter', 3))],
  ['torch._utils._rebuild_parameter_with_state', new AllowedCallable('torch._utils._rebuild_parameter_with_state', (a, f) => rebuildParameter(a, f, '_rebuild_parameter_with_state', 4))],
  ...Object.entries(STORAGE_DTYPES).map(([cls, dtype]): [string, PyValue] => [`torch.${cls}`, new StorageType(cls, dtype)]),
]);

// ---------------------------------------------------------------------------------------------
// The restricted unpickler

/** Opcodes refused by name (everything not handled below is refused too). */
const REFUSED_OPCODES: Readonly<Record<number, string>> = Object.freeze({
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
  0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x96: 'BYTEARRAY8',
  0x53: 'STRING', 0x56: 'UNICODE', 0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
});

const MAX_LONG_BYTES = 16;

interface Unpickled {
  value: PyValue;
  /** Offset just past the STOP opcode. */
  end: number;
}

/**
 * Runs one pickle starting at `start`. `persistentLoad` turns a persistent id (BINPERSID) into
 * a value; `fail` throws the ERR_BAD_MODEL.
 */
function unpickle(buf: Uint8Array, start: number, persistentLoad: (pid: PyValue) => PyValue, fail: Fail): Unpickled {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  let p = start;

  const need = (n: number): number => {
    if (n < 0 || p + n > buf.byteLength) fail(`pickle truncated at byte ${p} (needs ${n} more)`);
    const at = p;
    p += n;
    return at;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) fail(`pickle stack underflow at byte ${p - 1}`);
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail(`pickle stack underflow at byte ${p - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) fail(`pickle uses MARK items without a MARK at byte ${p - 1}`);
    stack = prev as PyValue[];
    return items;
  };
  const readLine = (): string => {
    const nl = buf.indexOf(0x0a, p);
    if (nl < 0 || nl - p > 512) fail(`pickle text argument at byte ${p} has no end of line`);
    const s = latin1.decode(buf.subarray(p, nl));
    p = nl + 1;
    return s;
  };
  const text = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(buf.subarray(at, at + n));
    } catch {
      return fail(`pickle string at byte ${at} is not valid UTF-8`);
    }
  };
  const findGlobal = (module: string, name: string): PyValue => {
    const v = ALLOWED_GLOBALS.get(`${module}.${name}`);
    if (v === undefined) {
      fail(`refused: the pickle references ${module}.${name}, which is not part of a torch state dict ` +
        '(only collections.OrderedDict, torch._utils._rebuild_* and torch.*Storage are allowed; loading never runs code from a model file)');
    }
    return v as PyValue;
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof Map)) fail(`SETITEM(S) on ${describe(dict)}`);
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (k !== null && typeof k === 'object') fail(`dict key must be a string or number, got ${describe(k)}`);
      (dict as Map<PyValue, PyValue>).set(k, items[i + 1]);
    }
  };
  const append = (list: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(list) || isTuple(list)) fail(`APPEND(S) on ${describe(list)}`);
    // One push per item: a spread of a pickle-sized array would overflow the call stack.
    for (const item of items) (list as PyValue[]).push(item);
  };
  const tuple = (items: PyValue[]): PyTuple => Object.freeze(items);
  const long = (n: number): number | bigint => {
    if (n > MAX_LONG_BYTES) fail(`integer of ${n} bytes`);
    const at = need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[at + i]);
    if (n > 0 && buf[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const op = buf[need(1)];
    switch (op) {
      case 0x80: need(1); break; // PROTO
      case 0x95: need(8); break; // FRAME: a length hint only
      case 0x2e: // STOP
        if (marks.length !== 0 || stack.length !== 1) fail('pickle ends with unbalanced MARKs or extra stack items');
        return { value: stack[0], end: p };
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(buf[need(1)]); break; // BININT1
      case 0x4d: stack.push(dv.getUint16(need(2), true)); break; // BININT2
      case 0x4a: stack.push(dv.getInt32(need(4), true)); break; // BININT
      case 0x8a: stack.push(long(buf[need(1)])); break; // LONG1
      case 0x8b: stack.push(long(dv.getInt32(need(4), true))); break; // LONG4
      case 0x47: stack.push(dv.getFloat64(need(8), false)); break; // BINFLOAT
      case 0x58: stack.push(text(dv.getUint32(need(4), true))); break; // BINUNICODE
      case 0x8c: stack.push(text(buf[need(1)])); break; // SHORT_BINUNICODE
      case 0x8d: { // BINUNICODE8
        const n = dv.getBigUint64(need(8), true);
        stack.push(text(n > BigInt(buf.byteLength) ? -1 : Number(n)));
        break;
      }
      case 0x55: { const n = buf[need(1)]; const at = need(n); stack.push(latin1.decode(buf.subarray(at, at + n))); break; } // SHORT_BINSTRING
      case 0x54: { const n = dv.getInt32(need(4), true); const at = need(n); stack.push(latin1.decode(buf.subarray(at, at + n))); break; } // BINSTRING
      case 0x43: { const n = buf[need(1)]; const at = need(n); stack.push(buf.slice(at, at + n)); break; } // SHORT_BINBYTES
      case 0x42: { const n = dv.getUint32(need(4), true); const at = need(n); stack.push(buf.slice(at, at + n)); break; } // BINBYTES
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x74: { const t = tuple(popMark()); stack.push(t); break; } // TUPLE (popMark replaces `stack`: pop first)
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(tuple([a, b, c])); break; } // TUPLE3
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: { const l = popMark(); stack.push(l); break; } // LIST
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const d = new Map<PyValue, PyValue>(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x71: memo.set(buf[need(1)], top()); break; // BINPUT
      case 0x72: memo.set(dv.getUint32(need(4), true), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x70: memo.set(Number(readLine()), top()); break; // PUT
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const k = op === 0x68 ? buf[need(1)] : op === 0x6a ? dv.getUint32(need(4), true) : Number(readLine());
        if (!memo.has(k)) fail(`pickle reads memo slot ${k}, which was never written`);
        stack.push(memo.get(k) as PyValue);
        break;
      }
      case 0x63: { const module = readLine(); const name = readLine(); stack.push(findGlobal(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        stack.push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof AllowedCallable)) fail(`refused: REDUCE calls ${describe(fn)}, which is not callable here`);
        if (!isTuple(args)) fail(`REDUCE arguments must be a tuple, got ${describe(args)}`);
        stack.push((fn as AllowedCallable).call(args as PyTuple, fail));
        break;
      }
      case 0x62: { // BUILD: OrderedDict attributes (state_dict()._metadata) and Parameter state
        const state = pop();
        const obj = top();
        if (!(obj instanceof Map) && !(obj instanceof TensorRef)) fail(`refused: BUILD on ${describe(obj)}`);
        if (state !== null && !(state instanceof Map) && !isTuple(state)) fail(`refused: BUILD with ${describe(state)}`);
        break; // the attributes are not needed: only the tensors are read
      }
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      case 0x50: stack.push(persistentLoad(readLine())); break; // PERSID
      default:
        fail(`refused: pickle opcode ${REFUSED_OPCODES[op] ?? `0x${op.toString(16).padStart(2, '0')}`} at byte ${p - 1} is not used by torch state dicts`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// torch.save formats

/** Legacy format's first pickle: torch.serialization.MAGIC_NUMBER. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Parses a storage persistent id `('storage', torch.XStorage, key, location, numel[, view])`. */
function storageFromPid(pid: PyValue, fail: Fail): StorageRef {
  if (!isTuple(pid) || pid.length < 5 || pid[0] !== 'storage') fail(`persistent id must be ('storage', type, key, location, numel), got ${describe(pid)}`);
  const t = pid as PyTuple;
  const type = t[1];
  if (!(type instanceof StorageType)) return fail(`storage type must be a torch.*Storage, got ${describe(type)}`);
  if (typeof t[2] !== 'string') fail(`storage key must be a string, got ${describe(t[2])}`);
  const numel = intArg(t[4], 'storage size', fail);
  const view = t.length > 5 ? t[5] : null;
  if (view !== null) {
    // Legacy views: (view_key, offset, view_size) into the root storage `key`.
    if (!isTuple(view) || view.length !== 3 || typeof view[0] !== 'string') fail(`storage view metadata must be (key, offset, size), got ${describe(view)}`);
    const v = view as PyTuple;
    return new StorageRef(t[2] as string, type.dtype, intArg(v[2], 'storage view size', fail), intArg(v[1], 'storage view offset', fail));
  }
  return new StorageRef(t[2] as string, type.dtype, numel);
}

const MAX_COPY_BYTES = 2 ** 31;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The tensor's row-major bytes: a view when contiguous, else a copy; byte-swapped when `swap`. */
function materialize(name: string, t: TensorRef, storageBytes: Uint8Array, fail: Fail, swap: boolean): TensorView {
  const { dtype } = t.storage;
  const item = DTYPE_SIZE[dtype];
  const storageNumel = Math.floor(storageBytes.byteLength / item);
  const shape = t.size;
  let numel = 1;
  for (const d of shape) numel *= d;
  if (!Number.isSafeInteger(numel)) fail(`tensor ${JSON.stringify(name)}: shape [${shape.join(', ')}] is too large`);
  const base = t.storage.viewOffset + t.offset;
  if (numel > 0) {
    let last = base;
    for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * t.stride[i];
    if (last >= storageNumel) {
      fail(`tensor ${JSON.stringify(name)}: offset ${t.offset}, shape [${shape.join(', ')}] and stride [${t.stride.join(', ')}] reach element ${last}, past the ${storageNumel} elements of storage ${t.storage.key}`);
    }
  }
  let contiguous = true;
  for (let i = shape.length - 1, expect = 1; i >= 0; i--) {
    if (shape[i] !== 1 && t.stride[i] !== expect) contiguous = false;
    expect *= shape[i];
  }
  // A copy is numel elements whatever the storage holds (stride 0 repeats elements): cap it.
  if (!contiguous && numel * item > MAX_COPY_BYTES) fail(`tensor ${JSON.stringify(name)}: a non-contiguous tensor of ${numel * item} bytes is too large to copy`);
  let bytes: Uint8Array;
  if (contiguous || numel === 0) {
    bytes = storageBytes.subarray(base * item, (base + numel) * item);
    if (swap) bytes = bytes.slice();
  } else {
    bytes = new Uint8Array(numel * item);
    const index = new Array<number>(shape.length).fill(0);
    for (let k = 0; k < numel; k++) {
      let src = base;
      for (let i = 0; i < shape.length; i++) src += index[i] * t.stride[i];
      bytes.set(storageBytes.subarray(src * item, src * item + item), k * item);
      for (let i = shape.length - 1; i >= 0 && ++index[i] === shape[i]; i--) index[i] = 0;
    }
  }
  if (swap && item > 1) {
    for (let o = 0; o < bytes.byteLength; o += item) bytes.subarray(o, o + item).reverse();
  }
  return { name, dtype, shape: [...shape], bytes };
}

/** The tensors of a state dict (`{name: tensor}`, nested OrderedDicts ignored). */
function stateDictTensors(root: PyValue, fail: Fail): Map<string, TensorRef> {
  if (!(root instanceof Map)) return fail(`expected a state dict (a dict of tensors), got ${describe(root)}`);
  const out = new Map<string, TensorRef>();
  for (const [k, v] of root) {
    if (v instanceof TensorRef) {
      if (typeof k !== 'string') fail(`state dict key must be a string, got ${describe(k)}`);
      out.set(k as string, v);
    }
  }
  if (out.size === 0) fail('the state dict holds no tensors');
  return out;
}

/**
 * A deflated storage larger than this that claims to inflate more than MAX_INFLATE_RATIO-fold is
 * refused as a zip bomb: torch.save never compresses, and trained weights re-zipped by hand
 * shrink by a few percent, not a hundredfold (small all-zero tensors, such as fresh biases, do
 * and stay under this size).
 */
const INFLATE_RATIO_FREE_BYTES = 64 << 20;
const MAX_INFLATE_RATIO = 100;

/**
 * The bytes of each storage the tensors use, each inflated once. Before anything is inflated,
 * every entry's declared size is checked against the storage's declared element count × element
 * size (torch writes exactly that), so a small archive cannot make the reader inflate gigabytes
 * the state dict never asked for.
 */
function zipStorageBytes(entries: Map<string, ZipEntry>, prefix: string, refs: Map<string, TensorRef>, fail: Fail): Map<string, Uint8Array> {
  const wanted = new Map<string, { storage: StorageRef; entry: ZipEntry }>();
  for (const [name, t] of refs) {
    const key = t.storage.key;
    if (wanted.has(key)) continue;
    const entry = entries.get(`${prefix}data/${key}`);
    if (entry === undefined) return fail(`tensor ${JSON.stringify(name)}: storage ${key} is missing from the archive`);
    const item = DTYPE_SIZE[t.storage.dtype];
    const declared = t.storage.numel * item;
    if (!Number.isSafeInteger(declared) || entry.size !== declared) {
      fail(`storage ${key} (tensor ${JSON.stringify(name)}): the archive entry holds ${entry.size} bytes but the pickle declares ${t.storage.numel} × ${t.storage.dtype} = ${declared} bytes`);
    }
    if (entry.method !== 0 && entry.size > INFLATE_RATIO_FREE_BYTES && entry.size > MAX_INFLATE_RATIO * entry.compressedSize) {
      fail(`storage ${key}: ${entry.compressedSize} compressed bytes claim to inflate to ${entry.size} (over ${MAX_INFLATE_RATIO}-fold): refused as a zip bomb`);
    }
    wanted.set(key, { storage: t.storage, entry });
  }
  const out = new Map<string, Uint8Array>();
  for (const [key, { entry }] of wanted) out.set(key, entry.data());
  return out;
}

function parseZipCheckpoint(buf: Uint8Array, file: string, fail: Fail): SafetensorsFile {
  const entries = readZipEntries(buf, file);
  const pkl = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl === undefined) fail('zip archive without <name>/data.pkl: not a torch.save file');
  const prefix = (pkl as string).slice(0, -'data.pkl'.length);
  const byteorder = entries.get(prefix + 'byteorder');
  const order = byteorder ? new TextDecoder().decode(byteorder.data()).trim() : 'little';
  if (order !== 'little' && order !== 'big') fail(`unknown byteorder ${JSON.stringify(order)}`);
  const { value } = unpickle(entries.get(pkl as string)!.data(), 0, (pid) => storageFromPid(pid, fail), fail);
  const refs = stateDictTensors(value, fail);
  const storages = zipStorageBytes(entries, prefix, refs, fail);
  const tensors = new Map<string, TensorView>();
  for (const [name, t] of refs) {
    tensors.set(name, materialize(name, t, storages.get(t.storage.key)!, fail, (order === 'big') === LITTLE_ENDIAN));
  }
  return { tensors, metadata: { format: 'pt', serialization: 'zip' }, byteLength: buf.byteLength };
}

function parseLegacyCheckpoint(buf: Uint8Array, fail: Fail): SafetensorsFile {
  const noStorage = (): PyValue => fail('unexpected persistent id outside the object pickle');
  const magic = unpickle(buf, 0, noStorage, fail);
  if (magic.value !== LEGACY_MAGIC && magic.value !== Number(LEGACY_MAGIC)) fail('not a torch.save file (neither a zip archive nor the legacy magic number)');
  const protocol = unpickle(buf, magic.end, noStorage, fail);
  if (protocol.value !== LEGACY_PROTOCOL) fail(`legacy torch.save protocol ${describe(protocol.value)} is not supported (expected ${LEGACY_PROTOCOL})`);
  const sysInfo = unpickle(buf, protocol.end, noStorage, fail);
  const info = sysInfo.value instanceof Map ? sysInfo.value : new Map();
  if (info.get('little_endian') === false) fail('big-endian legacy checkpoints are not supported');
  const storages = new Map<string, StorageRef>();
  const obj = unpickle(buf, sysInfo.end, (pid) => {
    const s = storageFromPid(pid, fail);
    if (!storages.has(s.key)) storages.set(s.key, s);
    return s;
  }, fail);
  const keys = unpickle(buf, obj.end, noStorage, fail);
  if (!Array.isArray(keys.value) || keys.value.some((k) => typeof k !== 'string')) fail('legacy storage key list is not a list of strings');
  // Each storage: int64 element count, then its bytes, in the key list's order.
  const bytesOf = new Map<string, Uint8Array>();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = keys.end;
  for (const key of keys.value as string[]) {
    const s = storages.get(key);
    if (s === undefined) fail(`legacy storage ${key} is listed but no tensor uses it`);
    if (p + 8 > buf.byteLength) fail(`legacy storage ${key} runs past the end of the file`);
    const n = dv.getBigInt64(p, true);
    const size = Number(n) * DTYPE_SIZE[s!.dtype];
    if (n < 0n || !Number.isSafeInteger(size) || p + 8 + size > buf.byteLength) fail(`legacy storage ${key} of ${n} elements runs past the end of the file`);
    bytesOf.set(key, buf.subarray(p + 8, p + 8 + size));
    p += 8 + size;
  }
  const tensors = new Map<string, TensorView>();
  for (const [name, t] of stateDictTensors(obj.value, fail)) {
    const bytes = bytesOf.get(t.storage.key);
    if (bytes === undefined) fail(`tensor ${JSON.stringify(name)}: storage ${t.storage.key} is not in the file`);
    tensors.set(name, materialize(name, t, bytes!, fail, false));
  }
  return { tensors, metadata: { format: 'pt', serialization: 'legacy' }, byteLength: buf.byteLength };
}

/** PROTO, MARK, GLOBAL, INST, EMPTY_LIST, EMPTY_DICT, EMPTY_TUPLE: how a pickle can begin. */
const PICKLE_FIRST_OPCODES: ReadonlySet<number> = new Set([0x80, 0x28, 0x63, 0x69, 0x5d, 0x7d, 0x29]);

/**
 * Parses a torch.save image held in memory (zip or legacy format). Contiguous tensors are views
 * of `buf` (no copy). Never runs code: see the file comment. Problems are ERR_BAD_MODEL.
 */
export function parseTorchCheckpoint(buf: Uint8Array, fileNameForErrors: string): SafetensorsFile {
  if (!(buf instanceof Uint8Array)) throw new TypeError('parseTorchCheckpoint: buf must be a Uint8Array');
  const fail: Fail = (reason) => {
    throw badModel(fileNameForErrors, reason);
  };
  if (looksLikeZip(buf)) return parseZipCheckpoint(buf, fileNameForErrors, fail);
  // Protocol 2+ pickles start with PROTO; older ones with an opcode that builds something.
  if (buf.byteLength > 2 && PICKLE_FIRST_OPCODES.has(buf[0])) return parseLegacyCheckpoint(buf, fail);
  if (buf.byteLength > 262 && new TextDecoder('latin1').decode(buf.subarray(257, 262)) === 'ustar') {
    fail('the tar format of torch.save before 0.4 is not supported; re-save with a current torch');
  }
  return fail('not a torch.save file (neither a zip archive nor a pickle)');
}

/**
 * Reads and parses a pytorch_model.bin (or any torch.save state dict file) through the bounded
 * reader (a regular file within the pytorch_model.bin cap: it is read into one buffer).
 */
export async function readTorchCheckpoint(file: string): Promise<SafetensorsFile> {
  const buf = await readBoundedFile(file, { kind: 'pytorch_model.bin', code: 'ERR_BAD_MODEL' });
  return parseTorchCheckpoint(buf, file);
}

/** The weights file this reader takes in a module folder. */
export const PYTORCH_WEIGHTS_NAME = 'pytorch_model.bin';

/**
 * `dir/pytorch_model.bin` read with the restricted unpickler, or undefined when there is none
 * (sharded `pytorch_model-0000x-of-0000y.bin` checkpoints are not read).
 */
export async function readPytorchModelWeights(dir: string): Promise<SafetensorsFile | undefined> {
  const file = path.join(dir, PYTORCH_WEIGHTS_NAME);
  if (!(await entryExists(file))) return undefined;
  return readTorchCheckpoint(file);
}
