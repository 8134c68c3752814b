import type { Lut, Samples } from '../../types.js';
import { CLAHE_WASM_BASE64 } from './clahe-binary.js';

/**
 * The part of the WebAssembly JS API used here. Node has it as a global, but neither lib ES2023
 * nor @types/node 20 declares it, and declaring the global here could clash with later typings.
 */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type HistKernel = (
  src: number,
  stride: number,
  width: number,
  tileWidth: number,
  hist: number,
  rows: number,
  rowBytes: number,
) => void;

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

interface ClaheExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  hist8: HistKernel;
  hist16: HistKernel;
  blend8: BlendKernel;
  blend16: BlendKernel;
}

/** Bytes of a 64 KiB WebAssembly page. */
const PAGE = 65536;

/** What the float32 tile-row slots at address 0 were filled from. */
interface HeldRows {
  tables: WeakRef<Lut>;
  rowEntries: number;
  /** Per slot, the tile row it holds (−1: none). */
  rows: Int32Array;
}

/**
 * One instance per thread. Every caller lays out the memory for its own call from address 0 and
 * may overwrite anything in it; the only thing kept between calls is the float32 copies of tile
 * rows of one job's tables at address 0 (tileRowAt), and every other layout must drop them.
 */
export class ClaheKernels {
  readonly #fn: ClaheExports;
  #bytes: Uint8Array;
  #held: HeldRows | undefined;

  constructor() {
    const module = new wasmApi.Module(Buffer.from(CLAHE_WASM_BASE64, 'base64'));
    this.#fn = new wasmApi.Instance(module).exports as ClaheExports;
    this.#bytes = new Uint8Array(this.#fn.memory.buffer);
  }

  get hist8(): HistKernel {
    return this.#fn.hist8;
  }
  get hist16(): HistKernel {
    return this.#fn.hist16;
  }
  get blend8(): BlendKernel {
    return this.#fn.blend8;
  }
  get blend16(): BlendKernel {
    return this.#fn.blend16;
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
    let held = this.#held;
    if (!held || held.tables.deref() !== tables || held.rowEntries !== rowEntries) {
      held = { tables: new WeakRef(tables), rowEntries, rows: new Int32Array(2 * planes).fill(-1) };
      this.#held = held;
    }
    const slot = 2 * plane + (tileRow & 1);
    const at = slot * rowEntries * 4;
    if (held.rows[slot] !== tileRow) {
      const first = (plane * (tables.length / planes / rowEntries) + tileRow) * rowEntries;
      const memory = this.reserve(slotBytes(planes, rowEntries));
      new Float32Array(memory.buffer, at, rowEntries).set(
        tables.subarray(first, first + rowEntries),
      );
      held.rows[slot] = tileRow;
    }
    return at;
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
