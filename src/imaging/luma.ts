/**
 * Luminance for the `luma` colour mode: BT.601 weights in 16-bit fixed point whose coefficients
 * add up to exactly 65536, so a grey pixel (R = G = B = v) has luma exactly v and a grey image
 * equalizes the same in every mode. Integer arithmetic keeps every pod bit-identical.
 */
export const LUMA_R = 19595;
export const LUMA_G = 38470;
export const LUMA_B = 7471;

/** Luma of an 8-bit pixel; the products stay below 2^24, safe in 32-bit integer ops. */
export function luma8(r: number, g: number, b: number): number {
  return (LUMA_R * r + LUMA_G * g + LUMA_B * b + 32768) >>> 16;
}

/** Luma of a 16-bit pixel; products exceed 2^32, so use exact double arithmetic instead. */
export function luma16(r: number, g: number, b: number): number {
  return Math.floor((LUMA_R * r + LUMA_G * g + LUMA_B * b + 32768) / 65536);
}
