import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dotenv from 'dotenv';
import fc from 'fast-check';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.js';
import { FORMATS, render, type Resolution, type ResolvedPgService } from './formats.js';
import { parsePgServiceSection, validatePgService } from './pg-service.js';

/** Values that break naive quoting; adjacent pairs matter too (a trailing \ before a leading #). */
const HOSTILE: Record<string, string> = {
  NEWLINES: 'line1\nline2\n\nline4\n',
  LEADING_NEWLINE: '\nstarts on the next line',
  CRLF: 'a\r\nb\r\n',
  LONE_CR: 'a\rb\r',
  SINGLE_QUOTE: "it's",
  DOUBLE_QUOTE: 'say "hi"',
  BACKTICK: 'run `ls`',
  SINGLE_AND_DOUBLE: `it's "quoted"`,
  ALL_QUOTES_ONE_LINE: `it's "a" \`b\``,
  ESCAPED_QUOTES_MULTILINE: "a\\'b\\\"c\\`d\ne",
  DOLLAR: 'cost $5, $HOME and $(whoami)',
  BRACED: '${X} ${HOME:-fallback}',
  BACKSLASH_N_LITERAL: 'C:\\new\\range',
  BACKSLASH_N_AND_QUOTES: "C:\\new\\it's \"x\" `y`",
  TRAILING_BACKSLASH: 'C:\\dir\\',
  HASH_START: '#not a comment',
  HASH_AFTER_SPACE: 'value #not a comment',
  TRAILING_BACKSLASH_2: 'ends\\\\',
  SPACE_THEN_HASH: ' #',
  TRAILING_BACKSLASH_3: "it's\\",
  NEWLINE_START_AFTER: "\nit's",
  EDGE_SPACES: '  padded  ',
  TABS: '\tindented\tand trailing\t',
  UNICODE: 'héllo — 日本語 😀🎉👩‍👩‍👧 ﷺ',
  RTL: 'שלום עולם \u202Eevil\u202C مرحبا',
  LINE_SEPARATORS: 'a\u2028b\u2029c\u0085d',
  CONTROL: '\u0007bell \u001b[31mred\u001b[0m \v\f',
  EQUALS: 'a=b=c',
  EXPORT_LOOKALIKE: 'export X=1',
  YAML_TRUE: 'true',
  YAML_YES: 'yes',
  YAML_OCTAL: '0123',
  YAML_NULL: 'null',
  YAML_TILDE: '~',
  YAML_FLOW: '{a: 1, b: [2]}',
  YAML_INDICATORS: '- &a *b !c %d @e ? f : g | > <<',
  EMPTY: '',
  LONG: `${'x'.repeat(50_000)}'"\n${'y'.repeat(50_000)}`,
};

/** The ones no dotenv text can carry (see dotenvCannotCarry). */
const DOTENV_REFUSED: Record<string, string> = {
  ALL_QUOTES_MULTILINE: `it's "a" \`b\`\nline2`,
  CR_AND_DOUBLE_QUOTE: 'a\r"b"',
  CR_AND_BACKSLASH_N: 'C:\\new\r',
  ALL_QUOTES_AND_HASH: `'a' "b" \`c\` #d`,
};

const resolutionOf = (map: Record<string, string>): Resolution => ({
  variables: Object.entries(map).map(([key, value], index) => ({
    key,
    value,
    type: index % 3 === 0 ? 'secret' : index % 3 === 1 ? 'plain' : 'file',
    scope: 'project',
    variable_id: `var_${index}`,
    ...(index % 3 === 2 ? { mount_path: `/etc/coffer/${key}` } : {}),
  })),
  pg_services: [],
  omitted: [],
});

/**
 * What no dotenv text can carry, restated from dotenv's parse(): ' and ` content cannot hold a CR
 * (the whole file is normalised to LF) nor a quote without a backslash before it; " content
 * cannot either, and always turns \n and \r into LF and CR; a bare value is one trimmed line with
 * no # that does not start with a quote.
 */
function dotenvCannotCarry(value: string): boolean {
  const unescaped = (quote: string) => [...value.matchAll(new RegExp(quote, 'g'))].some((m) => value[m.index - 1] !== '\\');
  const cr = value.includes('\r');
  const single = !cr && !unescaped("'");
  const backtick = !cr && !unescaped('`');
  const double = !unescaped('"') && !/\\[nr]/.test(value);
  const bare = value !== '' && value === value.trim() && !/^['"`]/.test(value) && !/[#\r\n\u2028\u2029]/.test(value);
  return !(single || backtick || double || bare);
}

const dir = mkdtempSync(join(tmpdir(), 'coffer-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Sources the body in bash (set -e) and reads the keys back from a child's environment. */
function sourceInBash(body: string, keys: string[]): Record<string, string> {
  const file = join(dir, `env-${files++}.sh`);
  writeFileSync(file, body);
  const read = 'process.stdout.write(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((k) => [k, process.env[k]]))))';
  // --norc and no stdin: bash reads ~/.bashrc when its stdin looks like a remote shell's socket.
  const script = 'set -e; source "$1"; shift; exec "$@"';
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', script, '_', file, process.execPath, '-e', read, ...keys], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** Strings heavy in the characters that matter to quoting, and arbitrary well-formed text. */
const valueArb = fc
  .oneof(
    fc.string({ unit: fc.constantFrom("'", '"', '`', '\\', 'n', 'r', '\n', '\r', ' ', '\t', '#', '$', '=', 'a', 'é', '😀', '\u2028', '\u0085'), maxLength: 24 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  )
  // Upstream refuses NUL; lone surrogates cannot be written as UTF-8 at all.
  .filter((value) => !value.includes('\0') && !/\p{Cs}/u.test(value));
const mapArb = fc.array(valueArb, { maxLength: 8 }).map((values) => Object.fromEntries(values.map((value, index) => [`COFFER_T${index}`, value])));

describe('render', () => {
  const hostile = resolutionOf(HOSTILE);

  it('keeps the hostile set clear of values dotenv cannot carry', () => {
    expect(Object.entries(HOSTILE).filter(([, value]) => dotenvCannotCarry(value))).toEqual([]);
    expect(Object.values(DOTENV_REFUSED).every(dotenvCannotCarry)).toBe(true);
  });

  it('json is the resolution itself', () => {
    const withService: Resolution = {
      ...hostile,
      pg_services: [{ service: 'db', host: 'h', port: 5432, extra: {}, scope: 'environment', variable_id: 'var_pg' }],
      omitted: ['HIDDEN'],
    };
    const rendered = render(withService, 'json');
    expect(rendered.contentType).toBe('application/json');
    expect(JSON.parse(rendered.body)).toEqual(withService);
  });

  it('env-json is a KEY to value object in the given order', () => {
    const rendered = render(hostile, 'env-json');
    expect(rendered.contentType).toBe('application/json');
    const parsed = JSON.parse(rendered.body) as Record<string, string>;
    expect(parsed).toEqual(HOSTILE);
    expect(Object.keys(parsed)).toEqual(Object.keys(HOSTILE));
  });

  it('dotenv reads every hostile value back exactly', () => {
    const rendered = render(hostile, 'dotenv');
    expect(rendered.contentType).toBe('text/plain; charset=utf-8');
    expect(dotenv.parse(rendered.body)).toEqual(HOSTILE);
  });

  it('dotenv carries quotes that have a backslash before them', () => {
    const map = { A: "a\\'b\r", B: 'x\\"y\\\\"\r\n', C: '\\`\\\'\\"\n' };
    expect(dotenv.parse(render(resolutionOf(map), 'dotenv').body)).toEqual(map);
  });

  it('dotenv refuses, naming the key and not the value, what it cannot carry', () => {
    for (const [key, value] of Object.entries(DOTENV_REFUSED)) {
      let error: unknown;
      try {
        render(resolutionOf({ FIRST: 'fine', [key]: value }), 'dotenv');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(AppError);
      const appError = error as AppError;
      expect(appError.code).toBe('BAD_REQUEST');
      expect(appError.status).toBe(400);
      expect(appError.message).toMatch(new RegExp(`^Variable ${key} cannot be written as dotenv exactly \\(.+\\); use format=env-json or shell$`));
      expect(appError.message).not.toContain(value);
      expect(appError.details).toEqual({ key, format: 'dotenv' });
    }
  });

  it('dotenv reads back any map exactly, or refuses only a value no dotenv text can carry', () => {
    fc.assert(
      fc.property(mapArb, (map) => {
        let body: string;
        try {
          body = render(resolutionOf(map), 'dotenv').body;
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          const { key } = (error as AppError).details as { key: string };
          expect(dotenvCannotCarry(map[key]!)).toBe(true);
          return;
        }
        expect(Object.values(map).some(dotenvCannotCarry)).toBe(false);
        expect(dotenv.parse(body)).toEqual(map);
      }),
      { numRuns: 1000 },
    );
  });

  it('shell exports every hostile value exactly when bash sources it', () => {
    const rendered = render(hostile, 'shell');
    expect(rendered.contentType).toBe('text/plain; charset=utf-8');
    expect(rendered.body.startsWith("export NEWLINES='line1\n")).toBe(true);
    const all = { ...HOSTILE, ...DOTENV_REFUSED };
    expect(sourceInBash(render(resolutionOf(all), 'shell').body, Object.keys(all))).toEqual(all);
  });

  it('shell exports any map exactly when bash sources it', () => {
    fc.assert(
      fc.property(mapArb, (map) => {
        expect(sourceInBash(render(resolutionOf(map), 'shell').body, Object.keys(map))).toEqual(map);
      }),
      { numRuns: 30 },
    );
  });

  it('shell refuses a key that is not a shell name', () => {
    expect(() => render(resolutionOf({ 'A-B': 'x' }), 'shell')).toThrow(/^Variable A-B cannot be written as shell exactly/);
  });

  it('yaml is a mapping of strings, even for true, 0123, null and ~', () => {
    const rendered = render(hostile, 'yaml');
    expect(rendered.contentType).toBe('application/yaml');
    expect(YAML.parse(rendered.body)).toEqual(HOSTILE);
    expect(rendered.body).toContain('"YAML_YES": "yes"\n');
  });

  it('yaml reads back any map exactly', () => {
    fc.assert(
      fc.property(mapArb, (map) => {
        expect(YAML.parse(render(resolutionOf(map), 'yaml').body) ?? {}).toEqual(map);
      }),
      { numRuns: 500 },
    );
  });

  it('flat formats write nothing but an empty mapping for no variables', () => {
    const empty: Resolution = { variables: [], pg_services: [], omitted: [] };
    expect(render(empty, 'dotenv').body).toBe('');
    expect(render(empty, 'shell').body).toBe('');
    expect(render(empty, 'env-json').body).toBe('{}');
    expect(YAML.parse(render(empty, 'yaml').body)).toEqual({});
  });

  it('pg_service writes the services, each section parsing back', () => {
    const services: ResolvedPgService[] = [
      { service: 'main', host: 'db', port: 5432, dbname: 'app', user: 'app', password: `p'"\`#=$x`, sslmode: 'verify-full', extra: { application_name: 'coffer' }, scope: 'environment', variable_id: 'var_1' },
      { service: 'replica.ro', host: 'ro', extra: { target_session_attrs: 'read-only' }, scope: 'project', variable_id: 'var_2' },
    ];
    const rendered = render({ ...hostile, pg_services: services }, 'pg_service');
    expect(rendered.contentType).toBe('text/plain; charset=utf-8');
    const sections = rendered.body.split(/\n(?=\[)/);
    expect(sections.map((section) => parsePgServiceSection(section))).toEqual(
      services.map(({ scope: _scope, variable_id: _id, ...definition }) => validatePgService(definition)),
    );
  });

  it('knows every format', () => {
    for (const format of FORMATS) expect(typeof render(resolutionOf({ A: 'b' }), format).body).toBe('string');
  });
});
