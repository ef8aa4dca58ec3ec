import { hash, verify, type Algorithm } from '@node-rs/argon2';

// OWASP's argon2id parameters: 19 MiB, 2 iterations, parallelism 1 (≈ 17 ms here).
const OPTIONS = {
  algorithm: 2 as Algorithm, // Argon2id (a const enum, which isolatedModules cannot import)
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
};

export const MIN_PASSWORD_LENGTH = 12;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** Compared against when the account does not exist, so a miss costs what a hit costs. */
let decoyHash: Promise<string> | undefined;

/**
 * Verifies `password` against `passwordHash`, or against a decoy when there is no
 * account: the timing of a login never tells whether the email exists.
 */
export async function verifyPassword(passwordHash: string | undefined, password: string): Promise<boolean> {
  if (passwordHash === undefined) {
    decoyHash ??= hashPassword('coffer decoy password that matches nothing');
    await verify(await decoyHash, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}
