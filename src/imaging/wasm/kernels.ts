import type { Lut, Samples } from '../types.js';
import { KERNELS_WASM_BASE64 } from './kernels-binary.js';
import { compileModule, instantiateModule } from './wasm-module.js';

// Byte offsets in the module's memory; they must match the layout described in kernels.wat.
const H0 = 0x00000;
const H1 = 0x40000;
const TABLE = 0x80000;
const OUT8 = 0xa0000;
const LUT8 = 0xa0400;
const CHUNK = 0xb0000;

/**
 * Bytes of samples copied into WebAssembly memory per kernel call. Small enough that the chunk,
 * the sub-histograms and the table stay in L2 cache; a multiple of 4 bytes so every chunk starts
 * on a whole 32-bit word of the input (and on a grey sample for grey+alpha).
 */
export const CHUNK_BYTES = 0x40000;

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  hist_reset(): void;
  count_pairs(bytes: number): void;
  fold8(alpha: number): void;
  pair_table8(alpha: number): void;
  map_halves(bytes: number): void;
  map_low_half(bytes: number): void;
}

/** One instance per thread, with views that stay valid because the memory never grows. */
interface Kernels {
  fn: KernelExports;
  chunk8: Uint8Array;
  chunk16: Uint16Array;
  h0: Uint32Array;
  h1: Uint32Array;
  out8: Uint32Array;
  lut8: Uint8Array;
  table: Uint16Array;
  /**
   * What the shared TABLE region holds now. The 8-bit pair table is rebuilt only when the LUT or
   * the alpha flag differ from the ones it was built from; any other use of the region (the
   * 16-bit LUT is copied there) makes it `other`, so the next 8-bit call rebuilds.
   */
  tableHolds: { kind: 'pairs8'; alpha: number } | { kind: 'other' };
}

let instance: Kernels | undefined;

/** Compiles and instantiates the module on first use (synchronous: it is under 1 KB). */
function kernels(): Kernels {
  if (instance) return instance;
  const fn = instantiateModule<KernelExports>(compileModule(KERNELS_WASM_BASE64));
  const buffer = fn.memory.buffer;
  instance = {
    fn,
    chunk8: new Uint8Array(buffer, CHUNK, CHUNK_BYTES),
    chunk16: new Uint16Array(buffer, CHUNK, CHUNK_BYTES / 2),
    h0: new Uint32Array(buffer, H0, 65536),
    h1: new Uint32Array(buffer, H1, 65536),
    out8: new Uint32Array(buffer, OUT8, 256),
    lut8: new Uint8Array(buffer, LUT8, 256),
    table: new Uint16Array(buffer, TABLE, 65536),
    tableHolds: { kind: 'other' },
  };
  return instance;
}

/**
 * Adds the histogram of the grey samples (channels 1) or of the grey channel of grey+alpha
 * samples (channels 2) to `hist[0, bins)`, bins 256 for bytes and 65536 for 16-bit samples.
 * Same result as `for (i = 0; i < n; i += channels) hist[samples[i]]++`, at any byte offset.
 */
export function addGreyHistogram(samples: Samples, channels: 1 | 2, hist: Uint32Array): void {
  const k = kernels();
  const size = samples.BYTES_PER_ELEMENT;
  const n = samples.length;
  // Whole 32-bit words go through the kernel; the last few samples are counted below.
  const whole = n - (n % (4 / size));
  const alpha = channels === 2 ? 1 : 0;
  if (whole > 0) {
    const chunk = size === 1 ? k.chunk8 : k.chunk16;
    k.fn.hist_reset();
    for (let i = 0; i < whole; i += chunk.length) {
      const end = Math.min(i + chunk.length, whole);
      chunk.set(samples.subarray(i, end));
      k.fn.count_pairs((end - i) * size);
    }
    if (size === 1) {
      k.fn.fold8(alpha);
      for (let v = 0; v < 256; v++) hist[v] += k.out8[v];
    } else if (alpha) {
      // H1 counted the alpha samples.
      for (let v = 0; v < 65536; v++) hist[v] += k.h0[v];
    } else {
      for (let v = 0; v < 65536; v++) hist[v] += k.h0[v] + k.h1[v];
    }
  }
  for (let i = whole; i < n; i += channels) hist[samples[i]]++;
}

/**
 * Maps the grey samples (channels 1), or the grey channel of grey+alpha samples (channels 2,
 * alpha unchanged), through `lut[0, bins)` in place. Same result as
 * `for (i = 0; i < n; i += channels) samples[i] = lut[samples[i]]`, at any byte offset.
 */
export function mapGrey(samples: Samples, channels: 1 | 2, lut: Lut): void {
  const k = kernels();
  const size = samples.BYTES_PER_ELEMENT;
  const n = samples.length;
  const alpha = channels === 2 ? 1 : 0;
  if (n === 0) return;
  if (size === 1) {
    loadLut8(k, lut, alpha);
  } else {
    k.tableHolds = { kind: 'other' };
    k.table.set(lut.subarray(0, 65536));
  }
  const chunk = size === 1 ? k.chunk8 : k.chunk16;
  const map = size === 2 && alpha ? k.fn.map_low_half : k.fn.map_halves;
  for (let i = 0; i < n; i += chunk.length) {
    const part = samples.subarray(i, Math.min(i + chunk.length, n));
    chunk.set(part);
    // Rounded up to whole words: the stale bytes after the part are mapped too but never copied
    // back, so the last chunk needs no scalar tail.
    map((part.length * size + 3) & ~3);
    part.set(chunk.subarray(0, part.length));
  }
}

/**
 * Builds the 8-bit pair table, unless it already holds the pair table of this very LUT and alpha
 * flag: strips of one image share their LUT, and comparing 256 entries is much cheaper than
 * rebuilding 65536.
 */
function loadLut8(k: Kernels, lut: Lut, alpha: number): void {
  const held = k.tableHolds;
  let same = held.kind === 'pairs8' && held.alpha === alpha;
  for (let v = 0; v < 256 && same; v++) same = k.lut8[v] === lut[v];
  if (same) return;
  k.lut8.set(lut.subarray(0, 256));
  k.fn.pair_table8(alpha);
  k.tableHolds = { kind: 'pairs8', alpha };
}
