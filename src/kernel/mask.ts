/**
 * SPEC §3 masking: first and last 3 characters only from 12 characters up, otherwise
 * `********`; never more.
 */
export function maskSecret(value: string): string {
  const chars = [...value];
  if (chars.length < 12) return '********';
  return `${chars.slice(0, 3).join('')}********${chars.slice(-3).join('')}`;
}
