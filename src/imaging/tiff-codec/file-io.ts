import { readSync, writeSync } from 'node:fs';

/** Synchronous positioned I/O: on a pool thread, blocking is the cheapest kind. */
export function readExactly(fd: number, into: Uint8Array, position: number, what: string): void {
  let done = 0;
  while (done < into.byteLength) {
    const n = readSync(fd, into, done, into.byteLength - done, position + done);
    if (n === 0) throw new Error(`${what} ends early at byte ${position + done}`);
    done += n;
  }
}

export function writeExactly(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.byteLength) {
    done += writeSync(fd, data, done, data.byteLength - done, position + done);
  }
}

/** A per-thread buffer that grows to the largest size asked for and is then reused. */
export function growable(): (bytes: number) => Uint8Array {
  let buffer = new Uint8Array(0);
  return (bytes) => {
    if (buffer.byteLength < bytes) buffer = new Uint8Array(bytes);
    return buffer.subarray(0, bytes);
  };
}
