/**
 * Round half to even, like C's lrint/nearbyint in the default rounding mode and OpenCV's
 * cvRound. Math.round rounds halves up, which would differ from OpenCV on exact ties.
 */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
