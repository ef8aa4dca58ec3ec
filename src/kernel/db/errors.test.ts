import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { driverErrorToAppError, translateConstraint } from './errors.js';

const pgError = (code: string, constraint?: string) => Object.assign(new Error('driver'), { code, constraint });

describe('translateConstraint', () => {
  const named = { things_slug_key: () => new AppError('CONFLICT', 'slug taken') };

  it('turns a violation of a named constraint into its AppError', () => {
    expect(translateConstraint(pgError('23505', 'things_slug_key'), named)).toMatchObject({ code: 'CONFLICT', message: 'slug taken' });
  });

  it('returns any other error unchanged, including a violation of another constraint', () => {
    const other = pgError('23505', 'things_other_key');
    expect(translateConstraint(other, named)).toBe(other);
    const notIntegrity = pgError('40001', 'things_slug_key');
    expect(translateConstraint(notIntegrity, named)).toBe(notIntegrity);
    const plain = new Error('boom');
    expect(translateConstraint(plain, named)).toBe(plain);
  });
});

describe('driverErrorToAppError', () => {
  it.each([
    ['23505', 'CONFLICT'],
    ['23503', 'CONFLICT'],
    ['40001', 'CONFLICT'],
    ['23514', 'BAD_REQUEST'],
    ['23502', 'BAD_REQUEST'],
    ['22021', 'BAD_REQUEST'],
    ['22P02', 'BAD_REQUEST'],
    ['54000', 'BAD_REQUEST'],
  ])('answers SQLSTATE %s with %s', (code, expected) => {
    expect(driverErrorToAppError(pgError(code))?.code).toBe(expected);
  });

  it('leaves errors it cannot name to be a 500', () => {
    expect(driverErrorToAppError(pgError('XX000'))).toBeUndefined();
    expect(driverErrorToAppError(new Error('boom'))).toBeUndefined();
  });
});
