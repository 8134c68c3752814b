import type { Lut, Samples } from '../../types.js';
import { CLAHE_WASM_BASE64 } from './clahe-binary.js';
import { compileModule, instantiateModule } from '../../wasm/wasm-module.js';

type HistKernel = (
  src: number,
  stride: number,
  width: number,
  tileWidth: number,
  hist: number,
  rows: number,
  rowBytes: number,
) => void;

/**
 * The 8-bit blend of contiguous samples: the row's two tile rows regrouped per tile pair at
 * `pairs` (pairTablesAt).
 */
type PairBlendKernel = (
  src: number,
  dst: number,
  width: number,
  cols: number,
  pairs: number,
  ya1: number,
  ya: number,
) => void;

/** The 16-bit blend: float32 copies of the row's two tile rows at `row1` and `row2` (tileRowAt). */
type BlendKernel = (
  src: number,
  dst: number,
  stride: number,
  width: number,
  cols: number,
  row1: number,
  row2: number,
  ya1: number,
  ya: number,
) => void;

/** Strided 8-bit samples to and from a contiguous row (gather: src, stride, width, dst). */
type GatherKernel = (src: number, stride: number, width: number, dst: number) => void;
type ScatterKernel = (src: number, dst: number, stride: number, width: number) => void;

interface ClaheExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  hist8: HistKernel;
  hist16: HistKernel;
  blend8: PairBlendKernel;
  blend16: BlendKernel;
  gather8: GatherKernel;
  scatter8: ScatterKernel;
}

/** Bytes of a 64 KiB WebAssembly page. */
const PAGE = 65536;

/** What the slots at address 0 were filled from (tileRowAt, pairTablesAt). */
interface HeldSlots {
  tables: WeakRef<Lut>;
  /** The slots' layout: which method, and the grid's shape it was laid out for. */
  layout: string;
  /** Per slot, what it holds (−1: nothing). */
  keys: Int32Array;
}

/**
 * One instance per thread. Every caller lays out the memory for its own call from address 0 and
 * may overwrite anything in it; the only thing kept between calls is the slots at address 0 with
 * parts of one job's tables regrouped for the blend (tileRowAt, pairTablesAt), and every other
 * layout must drop them.
 */
export class ClaheKernels {
  readonly #fn: ClaheExports;
  #bytes: Uint8Array;
  #held: HeldSlots | undefined;

  constructor() {
    this.#fn = instantiateModule<ClaheExports>(compileModule(CLAHE_WASM_BASE64));
    this.#bytes = new Uint8Array(this.#fn.memory.buffer);
  }

  get hist8(): HistKernel {
    return this.#fn.hist8;
  }
  get hist16(): HistKernel {
    return this.#fn.hist16;
  }
  get blend8(): PairBlendKernel {
    return this.#fn.blend8;
  }
  get blend16(): BlendKernel {
    return this.#fn.blend16;
  }
  get gather8(): GatherKernel {
    return this.#fn.gather8;
  }
  get scatter8(): ScatterKernel {
    return this.#fn.scatter8;
  }

  /** Bytes of memory the instance holds now. */
  get memoryBytes(): number {
    return this.#fn.memory.buffer.byteLength;
  }

  /**
   * The whole memory as bytes, at least `size` long: grown when needed (which replaces the
   * buffer, so views must be taken again after every call, never kept across calls).
   */
  reserve(size: number): Uint8Array {
    const have = this.#fn.memory.buffer.byteLength;
    if (size > have) this.#fn.memory.grow(Math.ceil((size - have) / PAGE));
    if (this.#bytes.buffer !== this.#fn.memory.buffer) {
      this.#bytes = new Uint8Array(this.#fn.memory.buffer);
    }
    return this.#bytes;
  }

  /**
   * The address of a float32 copy of tile row `tileRow` of plane `plane` of `tables` (the job's
   * tables, never changed once built; `rowEntries` = tiles per row × bins). Two slots per plane,
   * by the parity of the tile row, since a pixel row blends two adjacent tile rows: bands walk
   * down the image, so each tile row is converted about once per band. The slots take
   * `slotBytes(planes, rowEntries)` bytes from address 0.
   */
  tileRowAt(
    tables: Lut,
    rowEntries: number,
    planes: number,
    plane: number,
    tileRow: number,
  ): number {
    const slot = 2 * plane + (tileRow & 1);
    const at = slot * rowEntries * 4;
    const keys = this.#slots(tables, `rows ${rowEntries}`, 2 * planes);
    if (keys[slot] !== tileRow) {
      const first = (plane * (tables.length / planes / rowEntries) + tileRow) * rowEntries;
      const memory = this.reserve(slotBytes(planes, rowEntries));
      new Float32Array(memory.buffer, at, rowEntries).set(
        tables.subarray(first, first + rowEntries),
      );
      keys[slot] = tileRow;
    }
    return at;
  }

  /**
   * 8-bit: the address of plane `plane`'s tile rows `above` and `below` (the two a pixel row
   * blends, equal at the top and bottom edges) regrouped per tile pair a column can blend: `tilesX + 1` pairs (the left
   * edge's first tile with itself, each two neighbours, the right edge's last tile with itself),
   * each 256 entries of four float32 [row above's left tile, its right tile, row below's left
   * tile, its right tile] at value v, so a pixel's four table values are one 128-bit load. One
   * slot per plane, rebuilt when a band's rows reach the next tile-row pair (about once per tile
   * row). The slots take `pairSlotBytes(planes, tilesX)` bytes from address 0.
   */
  pairTablesAt(
    tables: Lut,
    grid: { tilesX: number; tilesY: number; planes: number },
    plane: number,
    above: number,
    below: number,
  ): number {
    const { tilesX, tilesY, planes } = grid;
    const at = plane * pairSlotBytes(1, tilesX);
    const keys = this.#slots(tables, `pairs ${tilesX}x${tilesY}`, planes);
    const key = above * tilesY + below;
    if (keys[plane] !== key) {
      const memory = this.reserve(pairSlotBytes(planes, tilesX));
      const out = new Float32Array(memory.buffer, at, (tilesX + 1) * 256 * 4);
      const row1 = (plane * tilesY + above) * tilesX * 256;
      const row2 = (plane * tilesY + below) * tilesX * 256;
      for (let pair = 0, o = 0; pair <= tilesX; pair++) {
        const left = Math.max(pair - 1, 0) * 256;
        const right = Math.min(pair, tilesX - 1) * 256;
        for (let v = 0; v < 256; v++, o += 4) {
          out[o] = tables[row1 + left + v]!;
          out[o + 1] = tables[row1 + right + v]!;
          out[o + 2] = tables[row2 + left + v]!;
          out[o + 3] = tables[row2 + right + v]!;
        }
      }
      keys[plane] = key;
    }
    return at;
  }

  /** The slot keys for `tables` in `layout`, all emptied when either changed. */
  #slots(tables: Lut, layout: string, count: number): Int32Array {
    const held = this.#held;
    if (held && held.tables.deref() === tables && held.layout === layout) return held.keys;
    const keys = new Int32Array(count).fill(-1);
    this.#held = { tables: new WeakRef(tables), layout, keys };
    return keys;
  }

  /** For a layout that writes over address 0 (the histograms): the tile-row copies are gone. */
  forgetTables(): void {
    this.#held = undefined;
  }
}

/** Bytes of the tile-row slots of tileRowAt. */
export function slotBytes(planes: number, rowEntries: number): number {
  return 2 * planes * rowEntries * 4;
}

/** Bytes of the tile-pair slots of pairTablesAt: 4 KiB per pair, tilesX + 1 pairs per plane. */
export function pairSlotBytes(planes: number, tilesX: number): number {
  return planes * (tilesX + 1) * 256 * 16;
}

/**
 * Which of pairTablesAt's tile pairs a column with left tile `left` and right tile `right`
 * (after edge clamping) blends: 0 left of the first tile's centre, `tilesX` right of the last
 * one's, else the right tile.
 */
export function tilePairOf(left: number, right: number, tilesX: number): number {
  if (left !== right) return right;
  return left === 0 ? 0 : tilesX;
}

/** `length` samples of `size` bytes at byte `at` of the kernels' memory (from reserve). */
export function samplesIn(memory: Uint8Array, at: number, length: number, size: number): Samples {
  return size === 1 ? memory.subarray(at, at + length) : new Uint16Array(memory.buffer, at, length);
}

/**
 * Memory a thread keeps between calls. WebAssembly memory never shrinks, so after a call that
 * needed more (a 16-bit job with many tile columns: up to 128 MiB of tile rows), the next call
 * that needs less starts a fresh instance and the large memory is garbage-collected.
 */
export const KEPT_MEMORY_BYTES = 64 << 20;

let instance: ClaheKernels | undefined;

/**
 * The thread's instance for a call that needs `bytes` of memory, compiled on first use
 * (synchronous: the module is about 2 KB).
 */
export function claheKernels(bytes: number): ClaheKernels {
  if (!instance || (instance.memoryBytes > KEPT_MEMORY_BYTES && bytes <= KEPT_MEMORY_BYTES)) {
    instance = new ClaheKernels();
  }
  return instance;
}
