import { HisteqError } from '../../common/errors.js';
import { binsFor, planesFor, type ColourMode, type PixelLayout } from '../types.js';

/** What the user chooses for contrast-limited adaptive equalization. */
export interface ClaheParams {
  /** Clip limit as OpenCV takes it: a multiple of the mean count per bin of a tile (> 0). */
  clipLimit: number;
  /** Tile columns and rows of the grid (1…256 each). */
  tilesX: number;
  tilesY: number;
}

export const DEFAULT_CLAHE: ClaheParams = { clipLimit: 40, tilesX: 8, tilesY: 8 };

export const MAX_TILES_PER_SIDE = 256;

/**
 * Table entries (tiles × bins × planes) a job may need. 8-bit fits every grid; 16-bit tables of
 * more than about a thousand tiles would need gigabytes in every pod, which OpenCV would allocate
 * too but a cluster should refuse up front.
 */
export const MAX_TABLE_ENTRIES = 1 << 26;

/**
 * The geometry OpenCV's CLAHE derives from an image and a grid. When the image does not divide
 * into the grid it is padded at the bottom and right (BORDER_REFLECT_101) by `tiles − size % tiles`
 * on both axes, even on the axis that did divide, and the tiles are cut from the padded image.
 */
export interface ClaheGrid {
  width: number;
  height: number;
  tilesX: number;
  tilesY: number;
  tileWidth: number;
  tileHeight: number;
  paddedWidth: number;
  paddedHeight: number;
  bins: number;
  planes: 1 | 3;
  /** The clip limit in counts per bin: max(int(clipLimit × tileArea / bins), 1). */
  clipCount: number;
  /** float32 (bins − 1) / tileArea, the table scale. */
  lutScale: number;
}

export function claheGrid(layout: PixelLayout, mode: ColourMode, params: ClaheParams): ClaheGrid {
  const { width, height } = layout;
  const { tilesX, tilesY } = params;
  const divides = width % tilesX === 0 && height % tilesY === 0;
  const paddedWidth = divides ? width : width + tilesX - (width % tilesX);
  const paddedHeight = divides ? height : height + tilesY - (height % tilesY);
  const tileWidth = paddedWidth / tilesX;
  const tileHeight = paddedHeight / tilesY;
  const bins = binsFor(layout);
  const area = tileWidth * tileHeight;
  const f = Math.fround;
  return {
    width,
    height,
    tilesX,
    tilesY,
    tileWidth,
    tileHeight,
    paddedWidth,
    paddedHeight,
    bins,
    planes: planesFor(layout, mode),
    clipCount: Math.max(Math.trunc((params.clipLimit * area) / bins), 1),
    lutScale: f(f(bins - 1) / f(area)),
  };
}

/** Entries of the job's tables: planes × tiles × bins. */
export function tableEntries(grid: ClaheGrid): number {
  return grid.planes * grid.tilesX * grid.tilesY * grid.bins;
}

/**
 * OpenCV's borderInterpolate for BORDER_REFLECT_101 (`gfedcb|abcdefgh|gfedcba`), reflecting as
 * often as needed: a pad wider than the image reflects again off the far edge.
 */
export function reflect101(p: number, length: number): number {
  if (length === 1) return 0;
  while (p < 0 || p >= length) p = p < 0 ? -p : 2 * length - 2 - p;
  return p;
}

/** Checks the parameters on their own, one sentence per mistake (the first found). */
export function checkGridParams(params: ClaheParams): void {
  const { clipLimit, tilesX, tilesY } = params;
  if (!Number.isFinite(clipLimit) || clipLimit <= 0) {
    throw new HisteqError(
      'BAD_INPUT',
      `The clip limit must be a number above 0 (40 is OpenCV's default), not ${clipLimit}.`,
    );
  }
  for (const [count, side] of [
    [tilesX, 'columns'],
    [tilesY, 'rows'],
  ] as const) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_TILES_PER_SIDE) {
      throw new HisteqError(
        'BAD_INPUT',
        `The grid must have 1 to ${MAX_TILES_PER_SIDE} tile ${side}, not ${count}.`,
      );
    }
  }
}

/**
 * Checks the user's parameters against the image, one sentence per mistake (the first found).
 * OpenCV itself accepts more tiles than pixels (tiles of padding only); a grid like that has no
 * meaning, so it is refused here.
 */
export function checkClaheParams(params: ClaheParams, layout: PixelLayout, mode: ColourMode): void {
  checkGridParams(params);
  const { tilesX, tilesY } = params;
  if (tilesX > layout.width || tilesY > layout.height) {
    throw new HisteqError(
      'BAD_INPUT',
      `A ${layout.width}×${layout.height} image has room for at most ${Math.min(layout.width, MAX_TILES_PER_SIDE)}x${Math.min(layout.height, MAX_TILES_PER_SIDE)} tiles; choose a grid no larger than that, not ${tilesX}x${tilesY}.`,
    );
  }
  const entries = tableEntries(claheGrid(layout, mode, params));
  if (entries > MAX_TABLE_ENTRIES) {
    throw new HisteqError(
      'BAD_INPUT',
      `A ${tilesX}x${tilesY} grid at ${layout.depth} bits needs ${entries.toLocaleString('en')} table entries, more than the ${MAX_TABLE_ENTRIES.toLocaleString('en')} allowed; choose fewer tiles.`,
    );
  }
}

/** Parses `CxR` (columns x rows), e.g. `8x8`; null when it is not of that shape. */
export function parseTiles(text: string): { tilesX: number; tilesY: number } | null {
  const match = /^\s*(\d{1,6})\s*[x×]\s*(\d{1,6})\s*$/i.exec(text);
  if (!match) return null;
  return { tilesX: Number(match[1]), tilesY: Number(match[2]) };
}

/** What a band's work needs besides its rows: the parameters, the whole image and its first row. */
export interface ClaheBand {
  params: ClaheParams;
  image: PixelLayout;
  /** The image row the band starts at. */
  top: number;
}
