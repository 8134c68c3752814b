import { rowBytes } from '../types.js';
import { copyTileIn } from './band-reader.js';
import { tileOut } from './band-sink.js';
import { decodeAnyChunk, encodeAnyChunk } from './chunk-codec.js';
import { growable } from './file-io.js';
import { chunkBytes, chunksAcross, type ChunkGeometry } from './geometry.js';

const decodedBuffer = growable();

/**
 * Replaces one chunk row's rows (of a page coded like `g`) with what the band sink
 * writes for them and the band reader reads back: for a lossy codec, the only exact expectation
 * of a result's decoded rows. Edge tiles are padded and cut as the sink and reader do.
 */
export async function roundTripChunkRow(g: ChunkGeometry, rowsOfChunk: Uint8Array): Promise<void> {
  const rows = rowsOfChunk.byteLength / rowBytes(g.layout);
  for (let c = 0; c < chunksAcross(g); c++) {
    const encoded = await encodeAnyChunk(g, g.tiled ? tileOut(rowsOfChunk, g, c) : rowsOfChunk);
    const decoded = decodedBuffer(g.tiled ? chunkBytes(g, 0) : rowsOfChunk.byteLength);
    await decodeAnyChunk(g, encoded, decoded);
    if (g.tiled) copyTileIn(decoded, rowsOfChunk, g.layout, g.chunkWidth, c, rows);
    else rowsOfChunk.set(decoded);
  }
}
