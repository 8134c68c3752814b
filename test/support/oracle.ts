import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
// The script lives in the source tree; tests run from dist/test/support.
const SCRIPT = fileURLToPath(new URL('../../../test/support/oracle.py', import.meta.url));

export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  depth: 8 | 16;
  data: Uint8Array | Uint16Array;
}

/**
 * Equalizes with the independent reference (Debian's python3-opencv + NumPy): `grey` and
 * `per-channel` use OpenCV's equalizeHist for 8-bit; `luma` follows the README's Image math in NumPy.
 */
export async function oracleEqualize(
  image: RawImage,
  op: 'grey' | 'per-channel' | 'luma',
): Promise<Uint8Array | Uint16Array> {
  const dir = await mkdtemp(join(tmpdir(), 'oracle-'));
  try {
    const src = join(dir, 'in.raw');
    const dst = join(dir, 'out.raw');
    const d = image.data;
    await writeFile(src, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    await run('/usr/bin/python3', [
      SCRIPT,
      op,
      src,
      dst,
      String(image.width),
      String(image.height),
      String(image.channels),
      String(image.depth),
    ]);
    const out = await readFile(dst);
    const copy = new Uint8Array(out).buffer;
    return image.depth === 8 ? new Uint8Array(copy) : new Uint16Array(copy);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface OracleClahe {
  clipLimit: number;
  tilesX: number;
  tilesY: number;
}

/**
 * OpenCV's `createCLAHE(clipLimit, (tilesX, tilesY)).apply` on the grey plane, the luma (shift
 * added to R, G, B as the README's Image math says) or each colour channel, for many images in
 * one interpreter start. Results come back in the order of `cases`.
 */
export async function oracleClaheBatch(
  cases: readonly { image: RawImage; op: 'grey' | 'per-channel' | 'luma'; clahe: OracleClahe }[],
): Promise<(Uint8Array | Uint16Array)[]> {
  const dir = await mkdtemp(join(tmpdir(), 'oracle-'));
  try {
    const lines = await Promise.all(
      cases.map(async ({ image, op, clahe }, i) => {
        const src = join(dir, `in_${i}.raw`);
        const d = image.data;
        await writeFile(src, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        const { width, height, channels, depth } = image;
        return [op, src, join(dir, `out_${i}.raw`), width, height, channels, depth]
          .concat([clahe.clipLimit, clahe.tilesX, clahe.tilesY])
          .join(' ');
      }),
    );
    const calls = join(dir, 'calls.txt');
    await writeFile(calls, lines.join('\n') + '\n');
    await run('/usr/bin/python3', [SCRIPT, 'batch', calls], { maxBuffer: 1 << 20 });
    return Promise.all(
      cases.map(async ({ image }, i) => {
        const copy = new Uint8Array(await readFile(join(dir, `out_${i}.raw`))).buffer;
        return image.depth === 8 ? new Uint8Array(copy) : new Uint16Array(copy);
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Decodes an image file with OpenCV (an independent TIFF reader), channels in RGB(A) order. */
export async function oracleDecode(path: string): Promise<RawImage> {
  const dir = await mkdtemp(join(tmpdir(), 'oracle-'));
  try {
    const dst = join(dir, 'out.raw');
    const { stdout } = await run('/usr/bin/python3', [SCRIPT, 'decode', path, dst]);
    const [width, height, channels, depth] = stdout.trim().split(' ').map(Number) as [
      number,
      number,
      RawImage['channels'],
      RawImage['depth'],
    ];
    const copy = new Uint8Array(await readFile(dst)).buffer;
    const data = depth === 8 ? new Uint8Array(copy) : new Uint16Array(copy);
    return { width, height, channels, depth, data };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
