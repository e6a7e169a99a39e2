/**
 * Correlation statistics for STS evaluation: Pearson's r and Spearman's ρ (Pearson's r of the
 * ranks, ties given their average rank — what scipy.stats.spearmanr computes).
 *
 * Both return NaN — never throw — when the correlation is undefined: fewer than two pairs, a
 * constant input (zero variance), or a non-finite value in either input. Callers report NaN
 * explicitly (the CLI prints "n/a" with the reason, JSON gets null).
 */

type NumArray = ArrayLike<number>;

function checkPair(x: NumArray, y: NumArray, fn: string): void {
  if (x == null || y == null || typeof x.length !== 'number' || typeof y.length !== 'number') {
    throw new TypeError(`${fn}(x, y): x and y must be arrays of numbers`);
  }
  if (x.length !== y.length) {
    throw new RangeError(`${fn}(x, y): x has ${x.length} values but y has ${y.length}`);
  }
}

function allFinite(a: NumArray): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Pearson's r without argument checks (two-pass, in float64). */
function pearsonUnchecked(x: NumArray, y: NumArray): number {
  const n = x.length;
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN; // constant input: correlation undefined
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/**
 * Pearson correlation coefficient of `x` and `y` (same length), in [-1, 1]. NaN when it is
 * undefined: n < 2, either input constant, or any value not finite.
 */
export function pearson(x: NumArray, y: NumArray): number {
  checkPair(x, y, 'pearson');
  if (!allFinite(x) || !allFinite(y)) return NaN;
  return pearsonUnchecked(x, y);
}

/**
 * Ranks 1..n of `values` (ascending), tied values sharing the average of the ranks they span:
 * ranks([10, 20, 20, 30]) → [1, 2.5, 2.5, 4].
 */
export function ranks(values: NumArray): Float64Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a] - values[b]);
  const out = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]] === values[order[i]]) j++;
    // positions i..j-1 (0-based) hold one tied group: ranks i+1..j, average (i+1+j)/2
    const avg = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) out[order[k]] = avg;
    i = j;
  }
  return out;
}

/**
 * Spearman rank correlation of `x` and `y`: Pearson's r of their ranks, ties averaged. NaN when
 * it is undefined: n < 2, either input constant, or any value not finite.
 */
export function spearman(x: NumArray, y: NumArray): number {
  checkPair(x, y, 'spearman');
  if (!allFinite(x) || !allFinite(y)) return NaN;
  if (x.length < 2) return NaN;
  return pearsonUnchecked(ranks(x), ranks(y));
}

/** Why a correlation came out NaN, in words (for reports); undefined when it is not NaN. */
export function whyUndefined(x: NumArray, y: NumArray): string | undefined {
  if (x.length < 2) return `only ${x.length} pair(s)`;
  if (!allFinite(x)) return 'predicted scores contain NaN or Infinity';
  if (!allFinite(y)) return 'gold scores contain NaN or Infinity';
  const constant = (a: NumArray) => {
    for (let i = 1; i < a.length; i++) if (a[i] !== a[0]) return false;
    return true;
  };
  if (constant(x)) return 'predicted scores are all equal (constant input)';
  if (constant(y)) return 'gold scores are all equal (constant input)';
  return undefined;
}
