import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from './api-client.js';
import { parse as parseDotenv } from 'dotenv';
import { dotenvLines, parseExport, secretMatcher, type Source } from './import-formats.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures/imports');
const EXPECTED = {
  API_URL: 'https://api.example.test',
  DB_PASSWORD: 'fake-password-123',
  MULTILINE: 'line one\nline two',
  STRIPE_KEY: 'sk_test_FAKE_not_a_real_key',
};

const read = (source: Source, file: string) => parseExport(source, fs.readFileSync(path.join(FIXTURES, file)), file);
const parse = (source: Source, text: string) => parseExport(source, Buffer.from(text), 'in.json');
const refusal = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('coffer import: reading other managers’ exports', () => {
  it.each([
    ['dotenv', 'app.env'],
    ['json', 'app.json'],
    ['doppler', 'doppler.json'],
    ['infisical', 'infisical.json'],
    ['infisical', 'infisical.csv'],
    ['vault', 'vault-kv2.json'],
    ['vault', 'vault-plain.json'],
  ] as const)('reads %s from %s into the same pairs', (source, file) => {
    expect(Object.fromEntries(read(source, file).entries)).toEqual(EXPECTED);
  });

  it("leaves out Doppler's own DOPPLER_PROJECT, DOPPLER_ENVIRONMENT and DOPPLER_CONFIG, saying so", () => {
    expect(read('doppler', 'doppler.json').skipped.map((s) => s.key).sort()).toEqual(['DOPPLER_CONFIG', 'DOPPLER_ENVIRONMENT', 'DOPPLER_PROJECT']);
    expect(parse('json', '{"DOPPLER_PROJECT": "kept"}').entries).toEqual([['DOPPLER_PROJECT', 'kept']]);
  });

  it('refuses a value that is not a string, naming the key and what to do', () => {
    expect(refusal(() => parse('json', '{"PORT": 8080}'))).toMatch(/PORT holds a number, not a string.*"8080" in quotes/);
    expect(refusal(() => parse('doppler', '{"FLAGS": {"a": 1}}'))).toMatch(/FLAGS holds an object/);
    expect(refusal(() => parse('vault', '{"data": {"data": {"ON": true}, "metadata": {}}}'))).toMatch(/ON holds a boolean/);
    expect(refusal(() => parse('infisical', '[{"key": "EMPTY", "value": null}]'))).toMatch(/EMPTY holds null/);
  });

  it('refuses the wrong shape with a hint at the right command', () => {
    expect(refusal(() => parse('json', '["A"]'))).toMatch(/must be an object.*not a list/);
    expect(refusal(() => parse('vault', '{"A": "b"}'))).toMatch(/no "data" field.*vault kv get -format=json/);
    expect(refusal(() => parse('vault', '{"data": {"data": null, "metadata": {"deletion_time": "x"}}}'))).toMatch(/deleted or destroyed/);
    expect(refusal(() => parse('infisical', 'Name,Secret\nA,b\n'))).toMatch(/Key and Value columns/);
    expect(refusal(() => parse('doppler', 'not json'))).toMatch(/is not JSON/);
    expect(refusal(() => parse('infisical', '[{"key": "A", "value": "1"}, {"key": "A", "value": "2"}]'))).toMatch(/A appears twice/);
  });

  it('matches --secret-keys globs against whole keys, any case; all secret without the option, none with an empty one', () => {
    const secret = secretMatcher('*_KEY, *_SECRET,*password*,TOKEN_?');
    expect(['STRIPE_KEY', 'APP_SECRET', 'DB_PASSWORD_OLD', 'TOKEN_A'].filter(secret)).toHaveLength(4);
    expect(['KEYRING', 'SECRET_NAME', 'TOKEN_AB', 'API_URL'].filter(secret)).toEqual([]);
    expect(secretMatcher(undefined)('API_URL')).toBe(true);
    expect(secretMatcher('')('STRIPE_KEY')).toBe(false);
    expect(secretMatcher('A.B')('AXB')).toBe(false);
  });
});

describe('dotenvLines: where each key of a .env file is, for messages', () => {
  it('names the line of each key dotenv reads, across comments, blank lines, multi-line values and CRLF; a repeated key its last line', () => {
    const text = ['# comment', '', 'FIRST=1', 'export SECOND="two', 'lines"', "  THIRD = 'x' # note", 'FIRST=again', 'bad.key=3', 'LAST:  colon'].join('\r\n');
    const content = Buffer.from(text);
    const lines = dotenvLines(content);
    expect([...lines.keys()].sort()).toEqual(Object.keys(parseDotenv(content)).sort());
    expect(Object.fromEntries(lines)).toEqual({ FIRST: 7, SECOND: 4, THIRD: 6, 'bad.key': 8, LAST: 9 });
  });

  it('parseExport gives the lines for dotenv only', () => {
    expect(parseExport('dotenv', Buffer.from('\nA=1\n'), 'a.env').lines).toEqual(new Map([['A', 2]]));
    expect(parseExport('json', Buffer.from('{"A": "1"}'), 'a.json').lines).toBeUndefined();
  });
});
