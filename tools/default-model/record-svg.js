'use strict';
/**
 * The training record as an SVG: the MSE loss per step (smoothed over a window, left axis) and
 * STSb-dev Spearman at each evaluation (right axis), against optimizer steps.
 */

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function movingAverage(values, window) {
  const out = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

/** `record`: { losses: number[], evaluations: [{ step, spearman }], title }. */
function trainingRecordSvg(record, { width = 760, height = 380 } = {}) {
  const m = { left: 84, right: 64, top: 40, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const steps = Math.max(1, record.losses.length);
  const window = Math.max(1, Math.round(steps / 200));
  const loss = movingAverage(record.losses, window);
  const lossMax = Math.max(...loss) * 1.05 || 1;
  const lossMin = Math.min(...loss) * 0.95;
  const ev = record.evaluations;
  const spMin = Math.floor(Math.min(...ev.map((e) => e.spearman * 100), 100) / 5) * 5;
  const spMax = Math.ceil(Math.max(...ev.map((e) => e.spearman * 100), 0) / 5) * 5 || 100;
  const x = (step) => m.left + (step / steps) * w;
  const yLoss = (v) => m.top + h - ((v - lossMin) / (lossMax - lossMin || 1)) * h;
  const ySp = (v) => m.top + h - ((v - spMin) / (spMax - spMin || 1)) * h;
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${esc(record.title)}</text>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 5; i++) {
    const step = Math.round((steps * i) / 5);
    parts.push(`<text x="${x(step)}" y="${m.top + h + 16}" text-anchor="middle">${step}</text>`);
    const lv = lossMin + ((lossMax - lossMin) * i) / 5;
    parts.push(`<text x="${m.left - 6}" y="${yLoss(lv) + 4}" text-anchor="end" fill="#1f77b4">${lv.toExponential(1)}</text>`);
    const sv = spMin + ((spMax - spMin) * i) / 5;
    parts.push(`<text x="${m.left + w + 6}" y="${ySp(sv) + 4}" fill="#d62728">${sv.toFixed(1)}</text>`);
  }
  parts.push(`<text x="${m.left + w / 2}" y="${height - 10}" text-anchor="middle">optimizer step</text>`);
  parts.push(`<text transform="translate(18 ${m.top + h / 2}) rotate(-90)" text-anchor="middle" fill="#1f77b4">MSE loss (moving average of ${window} steps)</text>`);
  parts.push(`<text transform="translate(${width - 14} ${m.top + h / 2}) rotate(90)" text-anchor="middle" fill="#d62728">STSb-dev Spearman ×100</text>`);
  const pts = loss.map((v, i) => `${x(i + 1).toFixed(1)},${yLoss(v).toFixed(1)}`);
  parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${pts.join(' ')}"/>`);
  if (ev.length) {
    parts.push(`<polyline fill="none" stroke="#d62728" stroke-width="1.5" points="${ev.map((e) => `${x(e.step).toFixed(1)},${ySp(e.spearman * 100).toFixed(1)}`).join(' ')}"/>`);
    for (const e of ev) parts.push(`<circle cx="${x(e.step).toFixed(1)}" cy="${ySp(e.spearman * 100).toFixed(1)}" r="3" fill="#d62728"/>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

module.exports = { trainingRecordSvg };
