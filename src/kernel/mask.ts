/** Values shorter than this are masked entirely: 6 shown characters must be at most a quarter. */
export const MASK_REVEAL_MIN_LENGTH = 24;

/**
 * SPEC §3 masking: first and last 3 characters only from 24 characters up (so at most a
 * quarter of the value shows), otherwise `********`; never more. Lengths count code points.
 */
export function maskSecret(value: string): string {
  const chars = [...value];
  if (chars.length < MASK_REVEAL_MIN_LENGTH) return '********';
  return `${chars.slice(0, 3).join('')}********${chars.slice(-3).join('')}`;
}
