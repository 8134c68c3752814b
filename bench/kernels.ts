import { applyLuts } from '../src/imaging/equalize.js';
import { computeHistogram } from '../src/imaging/histogram.js';
import { buildLuts } from '../src/imaging/lut.js';
import type { PixelLayout } from '../src/imaging/types.js';
import { repeat, type Summary } from './stats.js';

export interface KernelFigures {
  kernel: string;
  gbPerSecond: Summary;
}

/** Single-thread throughput of the pure kernels on a 64 MB grey 8-bit and a 32 MP 16-bit buffer. */
export async function benchKernels(runs: number): Promise<KernelFigures[]> {
  const out: KernelFigures[] = [];
  for (const depth of [8, 16] as const) {
    const layout: PixelLayout = {
      width: 8000,
      height: depth === 8 ? 8000 : 4000,
      channels: 1,
      depth,
    };
    const n = layout.width * layout.height;
    const samples = depth === 8 ? new Uint8Array(n) : new Uint16Array(n);
    // Low-contrast pseudo-random values from xorshift32 (32-bit integer arithmetic throughout:
    // a float product like i * 2654435761 loses its low bits above 2^53 and turns periodic).
    const range = depth === 8 ? 64 : 16384;
    let x = 0x2545f491;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      samples[i] = ((x >>> 0) % range) + 80;
    }
    const bytes = samples.byteLength;
    const hist = computeHistogram(samples, layout, 'luma');
    const lut = buildLuts(hist, layout, 'luma');
    out.push({
      kernel: `histogram ${depth}-bit grey`,
      gbPerSecond: await repeat(runs, () => {
        const t = performance.now();
        computeHistogram(samples, layout, 'luma');
        return bytes / 1e9 / ((performance.now() - t) / 1000);
      }),
    });
    out.push({
      kernel: `apply LUT ${depth}-bit grey`,
      gbPerSecond: await repeat(runs, () => {
        const copy = samples.slice();
        const t = performance.now();
        applyLuts(copy, layout, 'luma', lut);
        return bytes / 1e9 / ((performance.now() - t) / 1000);
      }),
    });
  }
  return out;
}
