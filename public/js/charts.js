// Histograms and CDFs on a canvas: bars for the 256 bins, a line for the cumulative share.
// On a log scale (log(1 + count)) one dominant bin no longer flattens all the others.

export const COLOURS = { background: '#101826', grid: '#2a3a52', bars: '#5aa2ff', cdf: '#ffa630' };

export function drawHistogram(canvas, counts, cdf, { log = false } = {}) {
  const { ctx, w, h } = sharpCanvas(canvas);
  const pad = 6;
  ctx.fillStyle = COLOURS.background;
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = COLOURS.grid;
  ctx.lineWidth = 1;
  for (let i = 1; i < 4; i++) {
    const y = Math.round(pad + ((h - 2 * pad) * i) / 4) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad, y);
    ctx.lineTo(w - pad, y);
    ctx.stroke();
  }
  const bins = counts.length;
  const scale = log ? (n) => Math.log1p(n) : (n) => n;
  const max = scale(Math.max(1, ...counts));
  const plotW = w - 2 * pad;
  const plotH = h - 2 * pad;
  const barW = plotW / bins;
  ctx.fillStyle = COLOURS.bars;
  for (let i = 0; i < bins; i++) {
    if (!counts[i]) continue;
    const bh = Math.max(1, (scale(counts[i]) / max) * plotH);
    ctx.fillRect(pad + i * barW, h - pad - bh, Math.max(1, barW), bh);
  }
  ctx.strokeStyle = COLOURS.cdf;
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let i = 0; i < cdf.length; i++) {
    const x = pad + (i + 0.5) * barW;
    const y = h - pad - cdf[i] * plotH;
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.stroke();
  canvas.dataset.scale = log ? 'log' : 'linear';
}

/**
 * A small line chart of one series over time (the cluster-health sparklines). `values` may hold
 * nulls (no data in that interval): the line breaks there. The y axis starts at 0 and ends at
 * the series' maximum, written in the corner so the chart can be read without axes.
 */
export function drawSeries(canvas, values, { unit = '', digits = 1 } = {}) {
  const { ctx, w, h } = sharpCanvas(canvas);
  const pad = 6;
  ctx.fillStyle = COLOURS.background;
  ctx.fillRect(0, 0, w, h);
  const known = values.filter((v) => Number.isFinite(v));
  const max = Math.max(0, ...known);
  canvas.dataset.points = String(known.length);
  canvas.dataset.max = String(max);
  if (values.length < 2) return;
  const top = max > 0 ? max : 1;
  ctx.strokeStyle = COLOURS.bars;
  ctx.lineWidth = 2;
  ctx.beginPath();
  let drawing = false;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      drawing = false;
      return;
    }
    const x = pad + ((w - 2 * pad) * i) / (values.length - 1);
    const y = h - pad - ((h - 2 * pad) * v) / top;
    if (drawing) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    drawing = true;
  });
  ctx.stroke();
  ctx.fillStyle = COLOURS.cdf;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(`max ${max.toFixed(digits)}${unit}`, pad + 2, pad + 10);
}

/** Sizes the canvas for the screen's pixel ratio (crisp lines) and draws in CSS pixels. */
function sharpCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(w * ratio);
  canvas.height = Math.round(h * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, w, h };
}
