import { HisteqError } from '../../common/errors.js';
import { checkGridParams, DEFAULT_CLAHE, parseTiles, type ClaheParams } from './grid.js';

/** `global`: one LUT for the whole image; `clahe`: contrast-limited adaptive, per tile. */
export type EqualizeMethod = 'global' | 'clahe';

export const METHODS: readonly EqualizeMethod[] = ['global', 'clahe'];

/** The method options as a user gives them (CLI flags, upload form fields), unparsed. */
export interface MethodInput {
  method?: string;
  clipLimit?: string;
  tiles?: string;
}

/**
 * The CLAHE parameters the input asks for, or undefined for global equalization (which ignores
 * the clip limit and tiles). One sentence per mistake; whether the grid fits the image is checked
 * once the image is known (checkClaheParams).
 */
export function parseMethod(input: MethodInput): ClaheParams | undefined {
  const method = input.method?.trim() || 'global';
  if (!METHODS.includes(method as EqualizeMethod)) {
    throw new HisteqError(
      'BAD_INPUT',
      `The method must be global or clahe, not ${JSON.stringify(method)}.`,
    );
  }
  if (method === 'global') return undefined;
  const clipText = input.clipLimit?.trim();
  const clipLimit = clipText ? Number(clipText) : DEFAULT_CLAHE.clipLimit;
  if (!Number.isFinite(clipLimit)) {
    throw new HisteqError(
      'BAD_INPUT',
      `The clip limit must be a number above 0 (40 is OpenCV's default), not ${JSON.stringify(clipText)}.`,
    );
  }
  const tilesText = input.tiles?.trim();
  const tiles = tilesText ? parseTiles(tilesText) : DEFAULT_CLAHE;
  if (!tiles) {
    throw new HisteqError(
      'BAD_INPUT',
      `The tiles must be given as columns x rows, like 8x8, not ${JSON.stringify(tilesText)}.`,
    );
  }
  const params = { clipLimit, tilesX: tiles.tilesX, tilesY: tiles.tilesY };
  checkGridParams(params);
  return params;
}

/** How a method reads in summaries and logs: `global`, or `CLAHE clip 40, 8x8 tiles`. */
export function describeMethod(clahe: ClaheParams | undefined): string {
  return clahe ? `CLAHE clip ${clahe.clipLimit}, ${clahe.tilesX}x${clahe.tilesY} tiles` : 'global';
}
