/** ByteLevel (GPT-2 byte characters back to UTF-8) and ByteFallback (<0xXX> tokens) decoders. */
import { CHAR_TO_BYTE } from '../bytes';

const lossy = new TextDecoder('utf-8', { ignoreBOM: true });

/** ByteLevel: all tokens become one string; a token with a character outside the table stays as it is. */
export function byteLevelDecode(tokens: string[]): string[] {
  const bytes: number[] = [];
  for (const t of tokens) {
    const start = bytes.length;
    let ok = true;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
      if (b < 0) {
        ok = false;
        break;
      }
      bytes.push(b);
    }
    if (!ok) {
      bytes.length = start;
      for (const b of Buffer.from(t, 'utf8')) bytes.push(b);
    }
  }
  return [lossy.decode(Uint8Array.from(bytes))];
}

/** ByteFallback: runs of <0xXX> tokens become their UTF-8 text, or one U+FFFD per byte when invalid. */
export function byteFallbackDecode(tokens: string[]): string[] {
  const out: string[] = [];
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    try {
      out.push(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(pending)));
    } catch {
      for (let k = 0; k < pending.length; k++) out.push('\ufffd');
    }
    pending = [];
  };
  for (const t of tokens) {
    const m = t.length === 6 && /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
    if (m) {
      pending.push(parseInt(m[1], 16));
    } else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
}
