/**
 * The regexes of tokenizer.json (Replace and Split patterns) are Oniguruma regexes (Ruby
 * syntax), which HF runs with the onig crate. They are translated here into JS RegExps with
 * the same meaning: \s, \d, \w, \h, ^, $, ., \A, \z, \Z and \b get Oniguruma's definitions, and
 * \s \d \w \h and the general categories / common scripts (\p{L}, \p{Han}, …) are the
 * reference's own tables (unicode-classes.ts; other properties: the JS engine's), (?i) becomes explicit
 * case variants. What has no JS equivalent (possessive quantifiers, atomic groups, \K, \G, \R,
 * \X, POSIX brackets, class intersection, other inline flags) is refused, never approximated.
 *
 * findMatches() then walks the matches the way the onig crate's find_iter does (an empty match
 * right after the previous match is skipped), which differs from String.prototype.matchAll.
 */
import { ONIG_PROPS, ONIG_SPACE } from './unicode-classes';

/** A pattern that cannot be expressed as a JS regex. */
export class UnsupportedRegexError extends Error {}

function rangesToClass(r: readonly number[]): string {
  let s = '';
  for (let i = 0; i < r.length; i += 2) s += r[i] === r[i + 1] ? lit(r[i]) : `${lit(r[i])}-${lit(r[i + 1])}`;
  return s;
}

/** A code point as a regex atom that needs no escaping rules (valid inside and outside classes). */
function lit(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) return String.fromCharCode(cp);
  return `\\u{${cp.toString(16)}}`;
}

const classBodies = new Map<string, string>();

/** The class body of an Oniguruma property the reference tables hold (see unicode-classes.ts). */
function onigClass(name: string): string {
  let body = classBodies.get(name);
  if (body === undefined) {
    body = rangesToClass(name === 'space' ? ONIG_SPACE : ONIG_PROPS[name]);
    classBodies.set(name, body);
  }
  return body;
}

function table(): { S: string } {
  return { S: onigClass('space') };
}

/** Long general category names -> the short ones the tables are keyed by. */
const LONG_NAMES: Record<string, string> = {
  letter: 'L', uppercaseletter: 'Lu', lowercaseletter: 'Ll', titlecaseletter: 'Lt', modifierletter: 'Lm', otherletter: 'Lo',
  mark: 'M', combiningmark: 'M', nonspacingmark: 'Mn', spacingmark: 'Mc', enclosingmark: 'Me',
  number: 'N', decimalnumber: 'Nd', letternumber: 'Nl', othernumber: 'No',
  punctuation: 'P', connectorpunctuation: 'Pc', dashpunctuation: 'Pd', openpunctuation: 'Ps', closepunctuation: 'Pe',
  initialpunctuation: 'Pi', finalpunctuation: 'Pf', otherpunctuation: 'Po',
  symbol: 'S', mathsymbol: 'Sm', currencysymbol: 'Sc', modifiersymbol: 'Sk', othersymbol: 'So',
  separator: 'Z', spaceseparator: 'Zs', lineseparator: 'Zl', paragraphseparator: 'Zp',
  other: 'C', control: 'Cc', format: 'Cf', privateuse: 'Co', unassigned: 'Cn',
};

/** The table name of an Oniguruma property name (case, spaces, underscores and hyphens ignored), if any. */
function tableName(name: string): string | undefined {
  const key = name.replace(/[\s_-]/g, '').toLowerCase();
  for (const k of Object.keys(ONIG_PROPS)) if (k.toLowerCase() === key) return k;
  return LONG_NAMES[key];
}

/**
 * A set of characters as the body of a JS (v-mode) class: `body` goes inside [...]; negated
 * sets are nested classes, which v-mode allows.
 */
interface CharSet {
  body: string;
  negated: boolean;
}

function setToClassItem(s: CharSet): string {
  return s.negated ? `[^${s.body}]` : s.body;
}

function setToAtom(s: CharSet): string {
  return s.negated ? `[^${s.body}]` : `[${s.body}]`;
}

const POSIX_LIKE: Record<string, () => CharSet> = {
  alpha: () => ({ body: '\\p{Alphabetic}', negated: false }),
  digit: () => ({ body: onigClass('digit'), negated: false }),
  space: () => ({ body: table().S, negated: false }),
  word: () => wordSet(),
  alnum: () => ({ body: '\\p{Alphabetic}' + onigClass('digit'), negated: false }),
  upper: () => ({ body: '\\p{Uppercase}', negated: false }),
  lower: () => ({ body: '\\p{Lowercase}', negated: false }),
  xdigit: () => ({ body: '0-9a-fA-F', negated: false }),
  any: () => ({ body: '\\u{0}-\\u{10ffff}', negated: false }),
};

function wordSet(): CharSet {
  return { body: onigClass('word'), negated: false };
}

/** \p{name} as a set. */
function propertySet(name: string, negated: boolean): CharSet {
  const key = name.replace(/[\s_-]/g, '').toLowerCase();
  let body: string | null = null;
  const t = tableName(name);
  if (t !== undefined && key !== 'digit' && key !== 'word' && key !== 'hex') body = onigClass(t);
  else if (POSIX_LIKE[key]) {
    const s = POSIX_LIKE[key]();
    return { body: s.body, negated: s.negated !== negated };
  } else {
    for (const candidate of [`\\p{${name}}`, `\\p{Script=${name}}`]) {
      try {
        new RegExp(`[${candidate}]`, 'v');
        body = candidate;
        break;
      } catch {
        // try the next spelling
      }
    }
  }
  if (body === null) throw new UnsupportedRegexError(`unknown property \\p{${name}}`);
  return { body, negated };
}

const SIMPLE_ESCAPES: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, v: 11, a: 7, e: 27 };

/** Case variants of a code point (for (?i)). */
function caseVariants(cp: number): number[] {
  const ch = String.fromCodePoint(cp);
  const out = new Set([cp]);
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) {
    if (Array.from(v).length === 1) out.add(v.codePointAt(0)!);
  }
  return [...out];
}

class Translator {
  private i = 0;
  private groupFlags: boolean[] = [];
  private ignoreCase = false;

  constructor(private readonly src: string) {}

  private fail(why: string): never {
    throw new UnsupportedRegexError(`${why} (at offset ${this.i})`);
  }

  private peek(k = 0): string {
    return this.src[this.i + k] ?? '';
  }

  private readCodePoint(): number {
    const cp = this.src.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private hexDigits(max: number): number {
    const m = /^[0-9a-fA-F]+/.exec(this.src.slice(this.i, this.i + max));
    if (!m) this.fail('bad hex escape');
    this.i += m[0].length;
    return parseInt(m[0], 16);
  }

  /** After a backslash: a set, a code point, or (outside classes) an anchor / backreference. */
  private escape(inClass: boolean): { set?: CharSet; cp?: number; atom?: string } {
    const c = this.peek();
    this.i++;
    switch (c) {
      case 's':
      case 'S':
        return { set: { body: table().S, negated: c === 'S' } };
      case 'd':
      case 'D':
        return { set: { body: onigClass('digit'), negated: c === 'D' } };
      case 'w':
      case 'W': {
        const w = wordSet();
        return { set: { body: w.body, negated: c === 'W' } };
      }
      case 'h':
      case 'H':
        return { set: { body: onigClass('hex'), negated: c === 'H' } };
      case 'p':
      case 'P': {
        if (this.peek() !== '{') this.fail('\\p without {name}');
        const close = this.src.indexOf('}', this.i);
        if (close < 0) this.fail('unterminated \\p{');
        let name = this.src.slice(this.i + 1, close);
        this.i = close + 1;
        let neg = c === 'P';
        if (name.startsWith('^')) {
          neg = !neg;
          name = name.slice(1);
        }
        return { set: propertySet(name, neg) };
      }
      case 'x':
        if (this.peek() === '{') {
          this.i++;
          const cp = this.hexDigits(8);
          if (this.peek() !== '}') this.fail('bad \\x{…}');
          this.i++;
          return { cp };
        }
        return { cp: this.hexDigits(2) };
      case 'u':
        return { cp: this.hexDigits(4) };
      case '0': {
        const m = /^[0-7]{0,2}/.exec(this.src.slice(this.i))!;
        this.i += m[0].length;
        return { cp: parseInt('0' + m[0], 8) };
      }
    }
    if (c in SIMPLE_ESCAPES) return { cp: SIMPLE_ESCAPES[c] };
    if (!inClass) {
      switch (c) {
        case 'A':
          return { atom: '(?<![\\s\\S])' };
        case 'z':
          return { atom: '(?![\\s\\S])' };
        case 'Z':
          return { atom: '(?=\\n?(?![\\s\\S]))' };
        case 'b':
        case 'B': {
          const w = setToAtom(wordSet());
          return {
            atom: c === 'b' ? `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))` : `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))`,
          };
        }
        case 'k': {
          const m = /^<([A-Za-z_][A-Za-z0-9_]*)>/.exec(this.src.slice(this.i));
          if (!m) this.fail('unsupported \\k form');
          this.i += m[0].length;
          return { atom: `\\k<${m[1]}>` };
        }
      }
      if (/[1-9]/.test(c)) {
        const m = /^[0-9]*/.exec(this.src.slice(this.i))!;
        this.i += m[0].length;
        return { atom: `\\${c}${m[0]}` };
      }
    }
    if (/[A-Za-z0-9]/.test(c) || c === '') this.fail(`unsupported escape \\${c}`);
    this.i--;
    return { cp: this.readCodePoint() };
  }

  /** A literal code point as an atom (with its case variants under (?i)). */
  private literal(cp: number): string {
    if (!this.ignoreCase) return lit(cp);
    const v = caseVariants(cp);
    return v.length === 1 ? lit(cp) : `[${v.map(lit).join('')}]`;
  }

  /** Body of a bracket class starting after '['. */
  private bracketClass(): CharSet {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i++;
    }
    let body = '';
    let first = true;
    for (;;) {
      if (this.i >= this.src.length) this.fail('unterminated character class');
      const c = this.peek();
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[') {
        if (this.peek(1) === ':') this.fail('POSIX bracket expressions are not supported');
        this.i++;
        body += setToClassItem(this.bracketClass());
        continue;
      }
      if (c === '&' && this.peek(1) === '&') this.fail('class intersection (&&) is not supported');
      let lo: number;
      if (c === '\\') {
        this.i++;
        const e = this.escape(true);
        if (e.set) {
          body += setToClassItem(e.set);
          continue;
        }
        lo = e.cp!;
      } else {
        lo = this.readCodePoint();
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
        this.i++;
        let hi: number;
        if (this.peek() === '\\') {
          this.i++;
          const e = this.escape(true);
          if (e.set) this.fail('a range ends in a class escape');
          hi = e.cp!;
        } else if (this.peek() === '[') {
          this.fail('a range ends in a class');
        } else {
          hi = this.readCodePoint();
        }
        if (hi < lo) this.fail('reversed range');
        body += `${lit(lo)}-${lit(hi)}`;
        if (this.ignoreCase) {
          for (const [a, z, d] of [
            [0x41, 0x5a, 32],
            [0x61, 0x7a, -32],
          ]) {
            const s = Math.max(lo, a);
            const e = Math.min(hi, z);
            if (s <= e) body += `${lit(s + d)}-${lit(e + d)}`;
          }
          if (hi > 0x7f && /\p{Cased}/u.test(String.fromCodePoint(...range(Math.max(lo, 0x80), Math.min(hi, lo + 4096))))) {
            this.fail('case-insensitive non-ASCII range');
          }
        }
      } else {
        body += this.ignoreCase ? caseVariants(lo).map(lit).join('') : lit(lo);
      }
    }
    return { body, negated };
  }

  /** The quantifier at i, if any, translated. */
  private quantifier(): string {
    const c = this.peek();
    let q = '';
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      q = c;
    } else if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.i));
      if (!m || (m[1] === '' && m[3] === '') || (m[1] === '' && m[2] === '')) return '';
      this.i += m[0].length;
      q = `{${m[1] === '' ? '0' : m[1]}${m[2]}${m[3]}}`;
    } else {
      return '';
    }
    if (this.peek() === '?') {
      this.i++;
      q += '?';
    } else if (this.peek() === '+') {
      this.fail('possessive quantifiers are not supported');
    }
    return q;
  }

  translate(): string {
    let out = '';
    while (this.i < this.src.length) {
      const c = this.peek();
      let atom: string;
      if (c === '\\') {
        this.i++;
        const e = this.escape(false);
        atom = e.atom ?? (e.set ? setToAtom(e.set) : this.literal(e.cp!));
      } else if (c === '[') {
        this.i++;
        atom = setToAtom(this.bracketClass());
      } else if (c === '.') {
        this.i++;
        atom = '[^\\n]';
      } else if (c === '^') {
        this.i++;
        atom = '(?<![^\\n])';
      } else if (c === '$') {
        this.i++;
        atom = '(?![^\\n])';
      } else if (c === '|') {
        this.i++;
        out += '|';
        continue;
      } else if (c === '(') {
        out += this.openGroup();
        continue;
      } else if (c === ')') {
        if (this.groupFlags.length === 0) this.fail('unbalanced )');
        this.i++;
        this.ignoreCase = this.groupFlags.pop()!;
        atom = ')';
        out += atom + this.quantifier();
        continue;
      } else if (c === '*' || c === '+' || c === '?') {
        this.fail('quantifier without a target');
      } else {
        atom = this.literal(this.readCodePoint());
      }
      out += atom + this.quantifier();
    }
    if (this.groupFlags.length !== 0) this.fail('unbalanced (');
    return out;
  }

  private openGroup(): string {
    this.i++;
    if (this.peek() !== '?') {
      this.groupFlags.push(this.ignoreCase);
      return '(';
    }
    const rest = this.src.slice(this.i + 1);
    if (rest.startsWith('#')) {
      const close = this.src.indexOf(')', this.i);
      if (close < 0) this.fail('unterminated comment');
      this.i = close + 1;
      return '';
    }
    for (const kind of [':', '=', '!', '<=', '<!']) {
      if (rest.startsWith(kind)) {
        this.i += 1 + kind.length;
        this.groupFlags.push(this.ignoreCase);
        return `(?${kind}`;
      }
    }
    const named = /^<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
    if (named) {
      this.i += 1 + named[0].length;
      this.groupFlags.push(this.ignoreCase);
      return `(?<${named[1]}>`;
    }
    const flags = /^([imx]*)(?:-([imx]*))?([:)])/.exec(rest);
    if (flags && !/[mx]/.test(flags[1] + (flags[2] ?? ''))) {
      this.i += 1 + flags[0].length;
      const on = flags[1].includes('i') ? true : (flags[2] ?? '').includes('i') ? false : this.ignoreCase;
      if (flags[3] === ':') {
        this.groupFlags.push(this.ignoreCase);
        this.ignoreCase = on;
        return '(?:';
      }
      this.ignoreCase = on; // until the end of the enclosing group
      return '';
    }
    this.fail(`unsupported group (?${rest.slice(0, 2)}`);
  }
}

function range(a: number, b: number): number[] {
  const r: number[] = [];
  for (let c = a; c <= b; c++) r.push(c);
  return r;
}

/**
 * The JS RegExp (flags gv) equivalent to Oniguruma regex `pattern`.
 * @throws UnsupportedRegexError when the pattern uses what JS cannot express
 */
export function compileOnigRegex(pattern: string): RegExp {
  const src = new Translator(pattern).translate();
  try {
    return new RegExp(src, 'gv');
  } catch (e) {
    throw new UnsupportedRegexError(`cannot be expressed as a JS regex (${(e as Error).message})`);
  }
}

/** A regex matching the literal string s (HF escapes string patterns into a regex). */
export function literalRegex(s: string): RegExp {
  return new RegExp(Array.from(s, (ch) => lit(ch.codePointAt(0)!)).join(''), 'gv');
}

/**
 * HF Pattern::find_matches for a regex: pieces of s covering it in order, as triples
 * [start, end, isMatch (0/1)] appended to `out`; an empty s gives one empty non-match. Matches
 * are enumerated as the onig crate's find_iter does.
 */
export function findMatches(re: RegExp, s: string, out: number[]): void {
  if (s.length === 0) {
    out.push(0, 0, 0);
    return;
  }
  let prev = 0;
  let lastEnd = 0;
  let lastMatchEnd = -1;
  while (lastEnd <= s.length) {
    re.lastIndex = lastEnd;
    const m = re.exec(s);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    if (start < lastEnd || (start > 0 && isLow(s.charCodeAt(start)) && isHigh(s.charCodeAt(start - 1)))) {
      // V8 can report a match (e.g. an empty lookahead) inside a surrogate pair; Oniguruma
      // works on whole characters: search again after the pair (always moving forward)
      lastEnd = start < lastEnd ? lastEnd + 1 : start + 1;
      continue;
    }
    if (start === end && lastMatchEnd === end) {
      // an empty match right after the previous one: step one character and search again
      const c = s.charCodeAt(lastEnd);
      lastEnd += c >= 0xd800 && c <= 0xdbff && lastEnd + 1 < s.length ? 2 : 1;
      continue;
    }
    lastEnd = end;
    lastMatchEnd = end;
    if (prev !== start) out.push(prev, start, 0);
    out.push(start, end, 1);
    prev = end;
  }
  if (prev !== s.length) out.push(prev, s.length, 0);
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
