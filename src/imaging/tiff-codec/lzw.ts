/**
 * TIFF's LZW (compression 5): codes of 9 to 12 bits packed most significant bit first, Clear
 * 256, end of information 257, and libtiff's "early change": the code width grows one code
 * before the table needs it. Both directions match libtiff, so any TIFF reader decodes what we
 * write and we decode what libtiff writes.
 */

const CLEAR = 256;
const EOI = 257;
const FIRST = 258;
const MAX_CODES = 4096;

// Per thread, reused: a decoded code is a substring of what was already written, so the table
// only remembers where each code's bytes start and how many there are.
const codeStart = new Int32Array(MAX_CODES);
const codeLength = new Int32Array(MAX_CODES);

/**
 * Decodes `src` into `dst` and returns the bytes written (at most `dst.length`; a stream that
 * holds more is cut there, as libtiff does). Throws on a code that cannot occur.
 */
export function decodeLzw(src: Uint8Array, dst: Uint8Array): number {
  const bits = src.length * 8;
  let bitPos = 0;
  let width = 9;
  let next = FIRST;
  let out = 0;
  let prevStart = -1;
  let prevLength = 0;
  const limit = dst.length;
  while (bitPos + width <= bits && out < limit) {
    const byte = bitPos >>> 3;
    const window =
      byte + 2 < src.length
        ? (src[byte] << 16) | (src[byte + 1] << 8) | src[byte + 2]
        : (src[byte] << 16) | ((src[byte + 1] ?? 0) << 8);
    const code = (window >>> (24 - (bitPos & 7) - width)) & ((1 << width) - 1);
    bitPos += width;
    if (code === EOI) break;
    if (code === CLEAR) {
      width = 9;
      next = FIRST;
      prevStart = -1;
      continue;
    }
    const start = out;
    let length: number;
    if (code < 256) {
      dst[out] = code;
      length = 1;
    } else if (code < next && prevStart >= 0) {
      length = codeLength[code];
      copy(dst, codeStart[code], out, length);
    } else if (code === next && prevStart >= 0) {
      // The string being defined: the previous one plus its own first byte.
      length = prevLength + 1;
      copy(dst, prevStart, out, prevLength);
      if (out + prevLength < limit) dst[out + prevLength] = dst[prevStart];
    } else {
      throw new Error(`LZW data is corrupt (code ${code} where at most ${next} can occur)`);
    }
    if (prevStart >= 0 && next < MAX_CODES) {
      // The previous string plus this one's first byte lies right where the previous one began.
      codeStart[next] = prevStart;
      codeLength[next] = prevLength + 1;
      next++;
      if (next + 1 >= 1 << width && width < 12) width++;
    }
    prevStart = start;
    prevLength = length;
    out = Math.min(limit, out + length);
  }
  return out;
}

function copy(dst: Uint8Array, from: number, to: number, length: number): void {
  const end = Math.min(from + length, from + dst.length - to);
  if (end - from <= 64) {
    // Most strings are short: a loop beats the call into copyWithin.
    for (let i = from, j = to; i < end; i++, j++) dst[j] = dst[i];
  } else {
    dst.copyWithin(to, from, end);
  }
}

// The encoder's table, as libtiff keeps it: open addressing over a prime number of slots
// (small enough to stay in the CPU cache), keyed by (byte << 12) + prefix code.
const HASH_SIZE = 9001;
const HASH_SHIFT = 5;
const hashKeys = new Int32Array(HASH_SIZE);
const hashCodes = new Uint16Array(HASH_SIZE);
let output = new Uint8Array(0);

/**
 * Encodes `src` as libtiff does (a Clear first, a Clear whenever the table fills, EOI last).
 * The result is a view of a per-thread buffer, valid until the next call. The bit packing is
 * written out at each place a code is emitted: a local `put(code)` closure makes the bit
 * accumulator a captured variable, and measured about 20 % slower over a 64 MP page (2-core VM,
 * 2026-12-01); one table word per slot (key and code packed) measured no faster.
 */
export function encodeLzw(src: Uint8Array): Uint8Array {
  const needed = Math.ceil(src.length * 1.5) + 64;
  if (output.length < needed) output = new Uint8Array(needed);
  const out = output;
  const keys = hashKeys;
  const codes = hashCodes;
  let op = 0;
  let acc = 0;
  let accBits = 0;
  let width = 9;
  let next = FIRST;
  let limit = (1 << width) - 1;
  keys.fill(-1);
  // Code 256 (Clear) first.
  acc = CLEAR;
  accBits = 9;
  if (src.length > 0) {
    let w = src[0];
    for (let i = 1; i < src.length; i++) {
      const k = src[i];
      const key = (k << 12) + w;
      let h = (k << HASH_SHIFT) ^ w;
      let found = -1;
      if (keys[h] === key) {
        found = codes[h];
      } else if (keys[h] >= 0) {
        const step = h === 0 ? 1 : HASH_SIZE - h;
        do {
          h -= step;
          if (h < 0) h += HASH_SIZE;
          if (keys[h] === key) {
            found = codes[h];
            break;
          }
        } while (keys[h] >= 0);
      }
      if (found >= 0) {
        w = found;
        continue;
      }
      // Emit w.
      acc = (acc << width) | w;
      accBits += width;
      while (accBits >= 8) {
        accBits -= 8;
        out[op++] = (acc >>> accBits) & 0xff;
      }
      acc &= (1 << accBits) - 1;
      keys[h] = key;
      codes[h] = next;
      // libtiff widens after assigning the code one past the widest; at 4094 it clears instead.
      next++;
      if (next === MAX_CODES - 2) {
        acc = (acc << width) | CLEAR;
        accBits += width;
        while (accBits >= 8) {
          accBits -= 8;
          out[op++] = (acc >>> accBits) & 0xff;
        }
        acc &= (1 << accBits) - 1;
        width = 9;
        limit = (1 << width) - 1;
        next = FIRST;
        keys.fill(-1);
      } else if (next > limit) {
        width++;
        limit = (1 << width) - 1;
      }
      w = k;
    }
    acc = (acc << width) | w;
    accBits += width;
    while (accBits >= 8) {
      accBits -= 8;
      out[op++] = (acc >>> accBits) & 0xff;
    }
    acc &= (1 << accBits) - 1;
    next++;
    if (next === MAX_CODES - 2) {
      // The table would be full: libtiff clears here too, then ends.
      acc = (acc << width) | CLEAR;
      accBits += width;
      while (accBits >= 8) {
        accBits -= 8;
        out[op++] = (acc >>> accBits) & 0xff;
      }
      acc &= (1 << accBits) - 1;
      width = 9;
    } else if (next > limit) {
      width++;
    }
  }
  acc = (acc << width) | EOI;
  accBits += width;
  while (accBits >= 8) {
    accBits -= 8;
    out[op++] = (acc >>> accBits) & 0xff;
  }
  if (accBits > 0) out[op++] = (acc << (8 - accBits)) & 0xff;
  return out.subarray(0, op);
}
