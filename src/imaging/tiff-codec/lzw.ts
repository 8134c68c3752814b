/**
 * TIFF's LZW (compression 5): codes of 9 to 12 bits packed most significant bit first, Clear
 * 256, end of information 257, and libtiff's "early change": the code width grows one code
 * before the table needs it. Both directions match libtiff, so any TIFF reader decodes what we
 * write and we decode what libtiff writes. The loops, and the predictor that usually comes
 * with LZW, are WebAssembly (wasm/lzw.wat).
 */
import { compileModule, instantiateModule, type WasmModule } from '../wasm/wasm-module.js';
import { LZW_WASM_BASE64 } from './wasm/lzw-binary.js';

interface LzwExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  encode(src: number, n: number, dst: number): number;
  decode(src: number, n: number, dst: number, limit: number): number;
  undo8: PredictorKernel;
  undo16: PredictorKernel;
  apply8: PredictorKernel;
  apply16: PredictorKernel;
}

type PredictorKernel = (at: number, n: number, rowBytes: number, channels: number) => void;

/**
 * The horizontal predictor, run on the bytes while they are in WebAssembly memory (one pass
 * less over the chunk than predictor.ts afterwards): rows of `rowBytes`, samples of `depth`
 * bits in this host's byte order.
 */
export interface LzwPredictor {
  rowBytes: number;
  channels: number;
  depth: 8 | 16;
}

/** Where the input starts in each instance's memory (the tables come first; lzw.wat). */
const INPUT = 0x20000;
/** Room the decoder needs past its limit: the last string may overrun it (lzw.wat). */
const DECODE_SLACK = 4104;
const PAGE = 0x10000;

/** One instance per direction and thread, so an encoded chunk survives a decode. */
interface Codec {
  fn: LzwExports;
  /** A view of the whole memory, renewed when the memory grows (growth detaches the old one). */
  bytes: Uint8Array;
}

let module: WasmModule | undefined;
let encoder: Codec | undefined;
let decoder: Codec | undefined;

function newCodec(): Codec {
  module ??= compileModule(LZW_WASM_BASE64);
  const fn = instantiateModule<LzwExports>(module);
  return { fn, bytes: new Uint8Array(fn.memory.buffer) };
}

/**
 * A thread whose memory grew past this for one large chunk (one strip for a whole image, say)
 * starts afresh at its next smaller call, so the memory is returned.
 */
const KEEP_BYTES = 64 << 20;

/** `codec` (or a fresh instance) with at least `size` bytes of memory, and a view of it. */
function reserve(codec: Codec | undefined, size: number): Codec {
  if (!codec || (codec.bytes.length > KEEP_BYTES && size <= KEEP_BYTES)) codec = newCodec();
  if (codec.bytes.length < size) {
    codec.fn.memory.grow(Math.ceil((size - codec.bytes.length) / PAGE));
    codec.bytes = new Uint8Array(codec.fn.memory.buffer);
  }
  return codec;
}

/**
 * Decodes `src` into `dst` and returns the bytes written (at most `dst.length`; a stream that
 * holds more is cut there, as libtiff does). Throws on a code that cannot occur.
 */
export function decodeLzw(src: Uint8Array, dst: Uint8Array, predictor?: LzwPredictor): number {
  const output = INPUT + src.length + 2 + 6;
  decoder = reserve(decoder, output + dst.length + DECODE_SLACK);
  const memory = decoder.bytes;
  memory.set(src, INPUT);
  // Two zero bytes after the input: a code is read from the 24 bits at its first byte.
  memory[INPUT + src.length] = 0;
  memory[INPUT + src.length + 1] = 0;
  const written = decoder.fn.decode(INPUT, src.length, output, dst.length);
  if (written < 0) throw new Error(`LZW data is corrupt (code ${-1 - written} cannot occur there)`);
  if (predictor) {
    const undo = predictor.depth === 8 ? decoder.fn.undo8 : decoder.fn.undo16;
    undo(output, written, predictor.rowBytes, predictor.channels);
  }
  dst.set(memory.subarray(output, output + written));
  return written;
}

/**
 * Encodes `src` as libtiff does (a Clear first, a Clear whenever the table fills, EOI last),
 * after the predictor if one is given; `src` itself is left intact. The result is a view of a
 * per-thread buffer, valid until the next call.
 */
export function encodeLzw(src: Uint8Array, predictor?: LzwPredictor): Uint8Array {
  const output = INPUT + src.length + (-src.length & 7);
  // At most one 12-bit code per byte; the 9- to 11-bit codes after each Clear pay for it.
  encoder = reserve(encoder, output + Math.ceil(src.length * 1.5) + 64);
  const memory = encoder.bytes;
  memory.set(src, INPUT);
  if (predictor) {
    const apply = predictor.depth === 8 ? encoder.fn.apply8 : encoder.fn.apply16;
    apply(INPUT, src.length, predictor.rowBytes, predictor.channels);
  }
  const written = encoder.fn.encode(INPUT, src.length, output);
  return memory.subarray(output, output + written);
}
