// Histograms and CDFs on a canvas: bars for the 256 bins, a line for the cumulative share.
// On a log scale (log(1 + count)) one dominant bin no longer flattens all the others.

export const COLOURS = { background: '#101826', grid: '#2a3a52', bars: '#5aa2ff', cdf: '#ffa630' };

export function drawHistogram(canvas, counts, cdf, { log = false } = {}) {
  const ratio = window.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || canvas.width;
  const cssHeight = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(cssWidth * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const w = cssWidth;
  const h = cssHeight;
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
