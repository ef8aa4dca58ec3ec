import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../src/features/variables/dotenv.js';

/** The console's bulk paste reads a .env file as `coffer vars import` does (npm dotenv's parse). */
const SAMPLES = [
  'A=1\nB=two words\n',
  "export TOKEN='single # not a comment'\nEMPTY=\nSPACED =  padded value  # comment\n",
  'MULTI="line one\\nline two"\nRAW=\'keep \\n as is\'\nBACK=`tick`\n',
  '# comment only\n\nCRLF=yes\r\nCR=also\rDUP=first\nDUP=second\n',
  'JSON={"a": 1}\nURL=postgres://u:p@h:5432/db?sslmode=require\nCOLON: style\n',
  'OPEN="never closed\nNEXT=1\n',
];

describe('parseDotenv', () => {
  it.each(SAMPLES)('reads %j as npm dotenv does', (sample) => {
    expect(Object.fromEntries(parseDotenv(sample))).toEqual(parse(sample));
  });
});
