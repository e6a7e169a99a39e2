/**
 * A hand-written SVG scatter plot of predicted cosine similarity (y) against the gold score (x)
 * for one STS task, one colour per subset, with axes, ticks, labels, a legend and a title.
 * No dependency; the output is a standalone SVG 1.1 document.
 */

export interface ScatterSeries {
  name: string;
  gold: ArrayLike<number>;
  predicted: ArrayLike<number>;
}

export interface ScatterOptions {
  title: string;
  subtitle?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * span; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

/** The font size (≤ `size`) at which `text` fits in `width` px, assuming `em` × size per char. */
function fitFont(text: string, size: number, width: number, em: number): number {
  return Math.max(8, Math.min(size, Math.floor(width / (Math.max(1, text.length) * em))));
}

function fmtTick(v: number): string {
  return Number(v.toFixed(3)).toString();
}

function range(series: ScatterSeries[], key: 'gold' | 'predicted'): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    const a = s[key];
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) continue;
      if (a[i] < lo) lo = a[i];
      if (a[i] > hi) hi = a[i];
    }
  }
  if (!Number.isFinite(lo)) return [0, 1];
  return [lo, hi];
}

/** The SVG document text. */
export function scatterSvg(series: ScatterSeries[], options: ScatterOptions): string {
  const W = options.width ?? 760;
  const H = options.height ?? 560;
  const m = { left: 78, right: 24, top: options.subtitle ? 74 : 56, bottom: 64 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;

  // x: gold scores, whole numbers around the data (0–5 for STS, 1–5 for SICK)
  let [x0, x1] = range(series, 'gold');
  x0 = Math.floor(x0);
  x1 = Math.ceil(x1);
  if (x1 === x0) x1 = x0 + 1;
  // y: cosine, to the next 0.1 around the data, within [-1, 1]
  let [y0, y1] = range(series, 'predicted');
  y0 = Math.max(-1, Math.floor(y0 * 10 - 1e-9) / 10);
  y1 = Math.min(1, Math.ceil(y1 * 10 + 1e-9) / 10);
  if (y1 <= y0) y1 = y0 + 0.1;

  // a little room at both ends so points on the first/last gold value stay off the axis line
  const xpad = (x1 - x0) * 0.02;
  const sx = (v: number) => m.left + ((v - x0 + xpad) / (x1 - x0 + 2 * xpad)) * pw;
  const sy = (v: number) => m.top + ph - ((v - y0) / (y1 - y0)) * ph;
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="28" text-anchor="middle" font-size="${fitFont(options.title, 18, W - 24, 0.62)}" font-weight="bold" fill="#222">${esc(options.title)}</text>`,
  );
  if (options.subtitle) {
    out.push(`<text x="${W / 2}" y="50" text-anchor="middle" font-size="${fitFont(options.subtitle, 13, W - 24, 0.55)}" fill="#555">${esc(options.subtitle)}</text>`);
  }
  // grid + ticks
  out.push(`<g stroke="#e5e5e5" stroke-width="1">`);
  const xt = niceTicks(x0, x1, Math.min(10, x1 - x0 <= 5 ? (x1 - x0) * 2 : 10));
  const yt = niceTicks(y0, y1, 8);
  for (const t of xt) out.push(`<line x1="${f(sx(t))}" y1="${m.top}" x2="${f(sx(t))}" y2="${m.top + ph}"/>`);
  for (const t of yt) out.push(`<line x1="${m.left}" y1="${f(sy(t))}" x2="${m.left + pw}" y2="${f(sy(t))}"/>`);
  out.push(`</g>`);
  // points (subset by subset, semi-transparent)
  series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    out.push(`<g fill="${color}" fill-opacity="0.45" stroke="none">`);
    for (let i = 0; i < s.gold.length; i++) {
      const g = s.gold[i];
      const p = s.predicted[i];
      if (!Number.isFinite(g) || !Number.isFinite(p)) continue;
      out.push(`<circle cx="${f(sx(g))}" cy="${f(sy(p))}" r="2.6"/>`);
    }
    out.push(`</g>`);
  });
  // axes
  out.push(
    `<g stroke="#333" stroke-width="1.2" fill="none">`,
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}"/>`,
  );
  for (const t of xt) out.push(`<line x1="${f(sx(t))}" y1="${m.top + ph}" x2="${f(sx(t))}" y2="${m.top + ph + 6}"/>`);
  for (const t of yt) out.push(`<line x1="${m.left - 6}" y1="${f(sy(t))}" x2="${m.left}" y2="${f(sy(t))}"/>`);
  out.push(`</g>`);
  out.push(`<g font-size="12" fill="#333">`);
  for (const t of xt) out.push(`<text x="${f(sx(t))}" y="${m.top + ph + 21}" text-anchor="middle">${fmtTick(t)}</text>`);
  for (const t of yt) out.push(`<text x="${m.left - 10}" y="${f(sy(t) + 4)}" text-anchor="end">${fmtTick(t)}</text>`);
  out.push(`</g>`);
  // axis labels
  out.push(
    `<text x="${m.left + pw / 2}" y="${H - 18}" text-anchor="middle" font-size="14" fill="#222">${esc(options.xLabel ?? 'gold similarity score')}</text>`,
    `<text transform="translate(22 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="14" fill="#222">${esc(options.yLabel ?? 'predicted cosine similarity')}</text>`,
  );
  // legend (when there is more than one subset)
  if (series.length > 1) {
    const rowH = 18;
    const lw = 12 + Math.max(...series.map((s) => s.name.length)) * 7 + 40;
    const lx = m.left + pw - lw - 8;
    const ly = m.top + ph - series.length * rowH - 16;
    out.push(`<g font-size="12" fill="#333">`);
    out.push(`<rect x="${lx}" y="${ly}" width="${lw}" height="${series.length * rowH + 10}" fill="#ffffff" fill-opacity="0.85" stroke="#bbb"/>`);
    series.forEach((s, si) => {
      const y = ly + 14 + si * rowH;
      out.push(`<circle cx="${lx + 12}" cy="${y - 4}" r="5" fill="${COLORS[si % COLORS.length]}"/>`);
      out.push(`<text x="${lx + 24}" y="${y}">${esc(s.name)} (${s.gold.length})</text>`);
    });
    out.push(`</g>`);
  }
  out.push(`</svg>`, '');
  return out.join('\n');
}
