import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dotenv from 'dotenv';
import fc from 'fast-check';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.js';
import { FORMATS, render, type Format, type Resolution, type ResolvedPgService } from './formats.js';
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
    fc.string({ unit: fc.constantFrom("'", '"', '`', '\\', 'n', 'r', '\n', '\r', ' ', '\t', '#', '$', '{', '}', '-', '=', 'a', 'é', '😀', '\u2028', '\u0085', '\u007f', '\ufeff'), maxLength: 24 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  )
  // Upstream refuses NUL; lone surrogates cannot be written as UTF-8 at all.
  .filter((value) => !value.includes('\0') && !/\p{Cs}/u.test(value));
const mapArb = fc.array(valueArb, { maxLength: 8 }).map((values) => Object.fromEntries(values.map((value, index) => [`COFFER_T${index}`, value])));


/** The refusal a render throws, or null when it renders. */
function refusalOf(map: Record<string, string>, format: Format): AppError | null {
  try {
    render(resolutionOf(map), format);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
}

describe('render', () => {
  const hostile = resolutionOf(HOSTILE);

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

  it('refuses a dotenv value with the key, why, and the formats that carry it, never the value', () => {
    const secret = "it's $5 for s3cr3t-value-for-tests";
    const error = refusalOf({ FIRST: 'fine', PRICE: secret }, 'dotenv')!;
    expect(error.status).toBe(400);
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toBe(
      "Variable PRICE cannot be written as dotenv exactly (single quotes cannot carry it (it holds a ') and double quotes cannot (it holds a $)); use json, env-json, yaml, shell or docker",
    );
    expect(error.details).toEqual({ key: 'PRICE', format: 'dotenv', formats: ['json', 'env-json', 'yaml', 'shell', 'docker'] });
    expect(JSON.stringify(error.details)).not.toContain('s3cr3t');
  });

  it('never writes a backtick-quoted or bare dotenv value', () => {
    const body = render(resolutionOf({ A: "a'b'; touch pwned; echo 'c", B: 'plain', C: '`id`' }), 'dotenv').body;
    expect(body).toBe(`A="a'b'; touch pwned; echo 'c"\nB='plain'\nC='\`id\`'\n`);
  });

  it('dotenv reads back any map exactly, or refuses a key whose value alone it refuses', () => {
    fc.assert(
      fc.property(mapArb, (map) => {
        const error = refusalOf(map, 'dotenv');
        if (error) {
          const { key } = error.details as { key: string };
          expect(refusalOf({ [key]: map[key]! }, 'dotenv')).not.toBeNull();
          return;
        }
        expect(dotenv.parse(render(resolutionOf(map), 'dotenv').body)).toEqual(map);
      }),
      { numRuns: 1000 },
    );
  });

  it('shell exports every hostile value exactly when bash sources it', () => {
    const rendered = render(hostile, 'shell');
    expect(rendered.contentType).toBe('text/plain; charset=utf-8');
    expect(sourceInBash(rendered.body, Object.keys(HOSTILE))).toEqual(HOSTILE);
  });

  it('shell exports any value exactly when bash sources it', () => {
    // One file of many sampled values: one bash process instead of one per sample.
    const map = Object.fromEntries(fc.sample(valueArb, { numRuns: 500, seed: 18 }).map((value, index) => [`COFFER_T${index}`, value]));
    expect(sourceInBash(render(resolutionOf(map), 'shell').body, Object.keys(map))).toEqual(map);
  });

  it('shell and dotenv refuse a key that is not a shell name, or one bash treats specially', () => {
    expect(() => render(resolutionOf({ 'A-B': 'x' }), 'shell')).toThrow(/^Variable A-B cannot be written as shell exactly \(not a shell variable name\)/);
    for (const key of ['_', 'UID', 'EUID', 'PPID', 'RANDOM', 'SRANDOM', 'SECONDS', 'LINENO', 'BASHPID', 'GROUPS', 'HISTCMD', 'FUNCNAME', 'EPOCHSECONDS', 'EPOCHREALTIME', 'SHLVL', 'OPTIND', 'DIRSTACK', 'PIPESTATUS', 'BASH_ENV', 'BASH_XTRACEFD', 'BASHOPTS']) {
      for (const format of ['shell', 'dotenv'] as const) {
        const error = refusalOf({ [key]: 'x' }, format)!;
        expect(error.message, `${format} ${key}`).toMatch(new RegExp(`^Variable ${key} cannot be written as ${format} exactly \\(bash treats that name specially`));
        expect((error.details as { formats: string[] }).formats).toEqual(['json', 'env-json', 'yaml', 'docker']);
      }
    }
    // Ordinary names that look special are kept.
    expect(sourceInBash(render(resolutionOf({ BASH: 'x', USER_ID: 'y', HOSTNAME: 'z' }), 'shell').body, ['BASH', 'USER_ID', 'HOSTNAME'])).toEqual({ BASH: 'x', USER_ID: 'y', HOSTNAME: 'z' });
  });

  it('docker writes KEY=value lines as they are, refusing what docker would read differently', () => {
    const rendered = render(resolutionOf({ A: ' padded # "x" ', B: '', C: 'a\rb' }), 'docker');
    expect(rendered.contentType).toBe('text/plain; charset=utf-8');
    expect(rendered.body).toBe('A= padded # "x" \nB=\nC=a\rb\n');
    expect(refusalOf({ A: 'x\ny' }, 'docker')!.message).toMatch(/^Variable A cannot be written as docker exactly \(it holds a line break/);
    expect(refusalOf({ A: 'x\r' }, 'docker')!.message).toMatch(/\(it ends in a carriage return/);
    expect(refusalOf({ A: '"quoted"' }, 'docker')!.message).toMatch(/\(it starts and ends with the same quote/);
    expect(refusalOf({ A: 'x'.repeat(65_534) }, 'docker')!.message).toMatch(/\(its line is 65536 bytes; docker reads at most 65535\)/);
    expect(render(resolutionOf({ A: 'x'.repeat(65_533) }), 'docker').body).toHaveLength(65_536);
  });

  it('yaml is a mapping of strings, even for true, 0123, null and ~', () => {
    const rendered = render(hostile, 'yaml');
    expect(rendered.contentType).toBe('application/yaml');
    expect(YAML.parse(rendered.body)).toEqual(HOSTILE);
    expect(YAML.parse(rendered.body, { version: '1.1' })).toEqual(HOSTILE);
    expect(rendered.body).toContain('"YAML_YES": "yes"\n');
  });

  it('yaml writes no character YAML 1.1 forbids raw, nor a raw line break of either version', () => {
    const body = render(resolutionOf({ A: 'a\u0001\u007f\u0085\u009f\u2028\u2029\ufeff\ufffe\uffff\r\n\t😀' }), 'yaml').body;
    const raw = [...body.slice(0, -1)].filter((char) => /[\p{Cc}\u2028\u2029\ufeff\ufffe\uffff]/u.test(char));
    expect(raw).toEqual([]);
    expect(YAML.parse(body, { version: '1.1' })).toEqual({ A: 'a\u0001\u007f\u0085\u009f\u2028\u2029\ufeff\ufffe\uffff\r\n\t😀' });
  });

  it('yaml reads back any map exactly, as YAML 1.2 and 1.1', () => {
    fc.assert(
      fc.property(mapArb, (map) => {
        const body = render(resolutionOf(map), 'yaml').body;
        expect(YAML.parse(body)).toEqual(map);
        expect(YAML.parse(body, { version: '1.1' })).toEqual(map);
      }),
      { numRuns: 500 },
    );
  });

  it('flat formats write nothing but an empty mapping for no variables', () => {
    const empty: Resolution = { variables: [], pg_services: [], omitted: [] };
    for (const format of ['dotenv', 'docker', 'shell'] as const) expect(render(empty, format).body).toBe('');
    expect(render(empty, 'env-json').body).toBe('{}');
    expect(YAML.parse(render(empty, 'yaml').body)).toEqual({});
  });

  it('pg_service writes the services, each section parsing back', () => {
    const services: ResolvedPgService[] = [
      { service: 'main', host: 'db', port: 5432, dbname: 'app', user: 'app', password: ` p'"\`#=$x`, sslmode: 'verify-full', extra: { application_name: 'coffer' }, scope: 'environment', variable_id: 'var_1' },
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
