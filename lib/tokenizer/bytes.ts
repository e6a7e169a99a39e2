/**
 * GPT-2's byte-to-unicode table (HF `bytes_char`): every byte gets a printable character, so
 * that byte-level BPE works on strings. Printable Latin-1 bytes map to themselves; the others
 * to U+0100 onwards, in byte order.
 */

/** BYTE_TO_CHAR[b]: the character code of byte b. */
export const BYTE_TO_CHAR = new Uint16Array(256);
/** CHAR_TO_BYTE[c] for c < 0x144: the byte of character c, or -1. */
export const CHAR_TO_BYTE = new Int16Array(0x144).fill(-1);
{
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    BYTE_TO_CHAR[b] = printable ? b : 0x100 + n++;
    CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
  }
}

let codes = new Uint16Array(256);

/** The byte-level form of a well-formed string: its UTF-8 bytes, each as its character. */
export function byteLevelString(s: string): string {
  // printable ASCII maps to itself and the space to U+0120: the common case needs no copy
  let plain = true;
  let spaces = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20) spaces = true;
    else if (c < 0x21 || c > 0x7e) {
      plain = false;
      break;
    }
  }
  if (plain) return spaces ? s.replaceAll(' ', '\u0120') : s;
  if (codes.length < s.length * 4) codes = new Uint16Array(s.length * 4 + 16);
  const out = codes;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = BYTE_TO_CHAR[c];
    } else if (c < 0x800) {
      out[n++] = BYTE_TO_CHAR[0xc0 | (c >> 6)];
      out[n++] = BYTE_TO_CHAR[0x80 | (c & 63)];
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      c = ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00) + 0x10000;
      out[n++] = BYTE_TO_CHAR[0xf0 | (c >> 18)];
      out[n++] = BYTE_TO_CHAR[0x80 | ((c >> 12) & 63)];
      out[n++] = BYTE_TO_CHAR[0x80 | ((c >> 6) & 63)];
      out[n++] = BYTE_TO_CHAR[0x80 | (c & 63)];
    } else {
      out[n++] = BYTE_TO_CHAR[0xe0 | (c >> 12)];
      out[n++] = BYTE_TO_CHAR[0x80 | ((c >> 6) & 63)];
      out[n++] = BYTE_TO_CHAR[0x80 | (c & 63)];
    }
  }
  let r = '';
  for (let k = 0; k < n; k += 8192) {
    r += String.fromCharCode.apply(null, out.subarray(k, Math.min(n, k + 8192)) as unknown as number[]);
  }
  return r;
}

/** UTF-8 bytes of a well-formed string. */
export function utf8Bytes(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}
