import { describe, expect, it } from 'vitest';
import { thrown } from '../../../test/unit.js';
import { AppError } from '../../kernel/errors.js';
import { checkOutputs } from './outputs.js';

describe('checkOutputs', () => {
  it('passes outputs that hold any well-formed text', () => {
    const outputs = { host: 'db.internal', password: "p'\"`$x\n\t😀", empty: '' };
    expect(checkOutputs(outputs)).toBe(outputs);
  });

  it.each([
    ['NUL', 'db\u0000.internal', 'must not contain the NUL character'],
    ['a lone surrogate', 'db\ud800.internal', 'must be valid Unicode (it holds a lone surrogate)'],
    ['more than a value may hold', 'x'.repeat(64 * 1024 + 1), 'is 65537 bytes; a plain value may hold at most 65536 bytes'],
  ])('refuses an output holding %s like a variable value, naming the output', (_label, value, reason) => {
    const error = thrown(() => checkOutputs({ port: '5432', host: value }), AppError);
    expect(error.status).toBe(400);
    expect(error.details).toEqual({ field: 'body.outputs.host', reason });
  });
});
