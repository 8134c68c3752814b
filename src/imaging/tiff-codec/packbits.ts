/**
 * PackBits (compression 32773): a signed count byte, then n + 1 literal bytes (n ≥ 0) or one
 * byte repeated 1 − n times (n < 0); −128 is padding. Rows are packed separately, as the TIFF
 * specification asks.
 */

/** Decodes into `dst` and returns the bytes written (at most `dst.length`). */
export function decodePackBits(src: Uint8Array, dst: Uint8Array): number {
  let i = 0;
  let out = 0;
  while (i < src.length && out < dst.length) {
    const n = (src[i++] << 24) >> 24;
    if (n >= 0) {
      const end = Math.min(i + n + 1, src.length);
      const take = Math.min(end - i, dst.length - out);
      dst.set(src.subarray(i, i + take), out);
      out += take;
      i = end;
    } else if (n !== -128) {
      if (i >= src.length) break;
      const count = Math.min(1 - n, dst.length - out);
      dst.fill(src[i++], out, out + count);
      out += count;
    }
  }
  return out;
}

let output = new Uint8Array(0);

/**
 * Encodes `src`, row by row of `rowBytes`: runs of three or more equal bytes become repeats,
 * the rest literals. The result is a view of a per-thread buffer, valid until the next call.
 */
export function encodePackBits(src: Uint8Array, rowBytes: number): Uint8Array {
  const needed = src.length + Math.ceil(src.length / 128) + Math.ceil(src.length / rowBytes) + 8;
  if (output.length < needed) output = new Uint8Array(needed);
  const out = output;
  let op = 0;
  for (let row = 0; row < src.length; row += rowBytes) {
    const end = Math.min(row + rowBytes, src.length);
    let i = row;
    let literal = i; // start of the pending literal run
    while (i < end) {
      let run = 1;
      while (i + run < end && run < 128 && src[i + run] === src[i]) run++;
      if (run >= 3) {
        op = flushLiteral(src, literal, i, out, op);
        out[op++] = (1 - run) & 0xff;
        out[op++] = src[i];
        i += run;
        literal = i;
      } else {
        i += run;
      }
    }
    op = flushLiteral(src, literal, end, out, op);
  }
  return out.subarray(0, op);
}

function flushLiteral(
  src: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  op: number,
): number {
  for (let i = from; i < to; i += 128) {
    const n = Math.min(128, to - i);
    out[op++] = n - 1;
    out.set(src.subarray(i, i + n), op);
    op += n;
  }
  return op;
}
