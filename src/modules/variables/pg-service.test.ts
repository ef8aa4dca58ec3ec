import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { libpq, removeScratch } from '../../../test/parsers/readers.js';
import { thrown } from '../../../test/unit.js';
import { AppError } from '../../kernel/errors.js';
import {
  MAX_LINE_BYTES,
  PG_SERVICE_EXTRA_KEYWORDS,
  PG_SERVICE_NAME_PATTERN,
  parsePgServiceSection,
  serializePgServiceFile,
  validatePgService,
  type PgServiceDefinition,
} from './pg-service.js';

const SECRET = 'Sup3r$ecret-pw';

/** Asserts a 400 naming `expected`, and that the message never echoes the secret. */
function expectInvalid(run: () => unknown, expected: string, secret = SECRET): void {
  const appError = thrown(run, AppError);
  expect(appError.code).toBe('VALIDATION_FAILED');
  expect(appError.status).toBe(400);
  expect(appError.message).toContain(expected);
  expect(appError.message).not.toContain(secret);
  expect(JSON.stringify(appError.details)).not.toContain(secret);
}

describe('parsePgServiceSection', () => {
  it('reads a section with comments, blank lines and spaces around lines', () => {
    const text = [
      '# production replica',
      '  [reporting]  ',
      'host=db.internal',
      '  port=6432',
      '',
      'dbname=app',
      'user=report\t',
      `password=${SECRET}`,
      '# sslmode below',
      'sslmode=verify-full',
      'application_name=coffer',
      'options=-c search_path=reporting,public',
      'connect_timeout=5\r',
    ].join('\n');
    expect(parsePgServiceSection(text)).toEqual({
      service: 'reporting',
      host: 'db.internal',
      port: 6432,
      dbname: 'app',
      user: 'report',
      password: SECRET,
      sslmode: 'verify-full',
      extra: { application_name: 'coffer', connect_timeout: '5', options: '-c search_path=reporting,public' },
    });
  });

  it('keeps whitespace after = as libpq does', () => {
    const parsed = parsePgServiceSection(`[s]\npassword= spaced\noptions=\t-c x=1`);
    expect(parsed.password).toBe(' spaced');
    expect(parsed.extra.options).toBe('\t-c x=1');
    expect(serializePgServiceFile([parsed])).toBe('[s]\npassword= spaced\noptions=\t-c x=1\n');
  });

  it('refuses whitespace before =, which libpq reads as part of the keyword', () => {
    expectInvalid(() => parsePgServiceSection(`[s]\npassword =${SECRET}`), 'value: line 2: no whitespace before =');
    expectInvalid(() => parsePgServiceSection('[s]\nport\t=5432'), 'value: line 2: no whitespace before =');
  });

  it('splits at the first = so values may hold = and #', () => {
    const parsed = parsePgServiceSection(`[s]\npassword=a=b#c\noptions=-c x.y=1`);
    expect(parsed.password).toBe('a=b#c');
    expect(parsed.extra).toEqual({ options: '-c x.y=1' });
  });

  it('accepts an empty section and lists extra keywords sorted', () => {
    expect(parsePgServiceSection('[only_name]')).toEqual({ service: 'only_name', extra: {} });
    expect(Object.keys(parsePgServiceSection('[s]\nsslsni=1\nkeepalives=1\napplication_name=x').extra)).toEqual([
      'application_name',
      'keepalives',
      'sslsni',
    ]);
  });

  it('refuses text without a [service] header', () => {
    expectInvalid(() => parsePgServiceSection('# nothing\n\n'), 'value: no [service] header');
    expectInvalid(() => parsePgServiceSection(''), 'no [service] header');
  });

  it('refuses a keyword line before the header, naming the line', () => {
    expectInvalid(() => parsePgServiceSection(`password=${SECRET}\n[s]`), 'value: line 1: keyword=value line before the [service] header');
  });

  it('refuses a line without =, naming the line and not echoing it', () => {
    expectInvalid(() => parsePgServiceSection(`[s]\nhost=h\n${SECRET}`), 'value: line 3: expected keyword=value');
  });

  it('refuses an unknown keyword, naming the line and the keyword', () => {
    expectInvalid(() => parsePgServiceSection(`[s]\nfoo=${SECRET}`), 'line 2: unknown libpq keyword "foo"');
    expectInvalid(() => parsePgServiceSection(`[s]\nrequiressl=1`), 'line 2: unknown libpq keyword "requiressl"');
  });

  it('refuses service inside a section, as libpq does', () => {
    expectInvalid(() => parsePgServiceSection('[s]\nservice=other'), 'line 2: service cannot be set inside a service');
  });

  it('refuses a second section', () => {
    expectInvalid(() => parsePgServiceSection(`[a]\nhost=h\n\n# next\n[b]\npassword=${SECRET}`), 'line 5: a second [section]: one service per variable');
  });

  it('refuses a bad service name in the header', () => {
    expectInvalid(() => parsePgServiceSection('[bad name]'), `line 1: expected a [service] header; service name must match ${PG_SERVICE_NAME_PATTERN}`);
    expectInvalid(() => parsePgServiceSection(`[${'x'.repeat(64)}]`), 'line 1: expected a [service] header');
    expectInvalid(() => parsePgServiceSection('[s'), 'line 1: expected a [service] header');
  });

  it('refuses a port that is not a whole number from 1 to 65535', () => {
    for (const port of ['0', '65536', '54x', '5432.0', '-1', '5432,5433']) {
      expectInvalid(() => parsePgServiceSection(`[s]\nhost=h\n\nport=${port}`), 'line 4: port must be a whole number from 1 to 65535');
    }
  });

  it('refuses an unknown sslmode', () => {
    expectInvalid(() => parsePgServiceSection('[s]\nsslmode=always'), 'line 2: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full');
  });

  it('refuses a keyword set twice', () => {
    expectInvalid(() => parsePgServiceSection(`[s]\npassword=${SECRET}\npassword=${SECRET}2`), 'line 3: password is set twice');
  });

  it('refuses a value holding a carriage return or NUL, without echoing it', () => {
    expectInvalid(() => parsePgServiceSection(`[s]\npassword=${SECRET}\rmore`), 'line 2: password must not contain a line break or NUL character');
    expectInvalid(() => parsePgServiceSection(`[s]\npassword=${SECRET}\0`), 'line 2: password must not contain a line break or NUL character');
  });

  it('refuses a line longer than libpq reads', () => {
    const password = SECRET + 'x'.repeat(MAX_LINE_BYTES);
    expectInvalid(() => parsePgServiceSection(`[s]\npassword=${password}`), `line 2: the password line is ${MAX_LINE_BYTES + 9 + SECRET.length} bytes; libpq reads at most ${MAX_LINE_BYTES}`);
  });
});

describe('validatePgService', () => {
  const base: PgServiceDefinition = { service: 'main', host: 'db', port: 5432, dbname: 'app', user: 'app', password: SECRET, sslmode: 'require', extra: {} };

  it('returns a normalized copy with extra keys sorted', () => {
    const input = { ...base, extra: { target_session_attrs: 'read-write', application_name: 'coffer' } };
    const normalized = validatePgService(input);
    expect(normalized).toEqual(input);
    expect(normalized).not.toBe(input);
    expect(Object.keys(normalized.extra)).toEqual(['application_name', 'target_session_attrs']);
  });

  it('accepts a definition without extra, as JSON may omit it', () => {
    const { extra: _extra, ...withoutExtra } = base;
    expect(validatePgService(withoutExtra as PgServiceDefinition).extra).toEqual({});
  });

  it('refuses a bad service name', () => {
    for (const service of ['', '-lead', 'has space', 'a/b', 'x'.repeat(64), '[s]']) {
      expectInvalid(() => validatePgService({ ...base, service }), `pg_service.service: service name must match ${PG_SERVICE_NAME_PATTERN}`);
    }
    expect(validatePgService({ ...base, service: 'x'.repeat(63) }).service).toHaveLength(63);
  });

  it('refuses a port outside 1..65535 or not whole', () => {
    for (const port of [0, 65536, 1.5, Number.NaN, '5432' as unknown as number]) {
      expectInvalid(() => validatePgService({ ...base, port }), 'pg_service.port: port must be a whole number from 1 to 65535');
    }
  });

  it('refuses an unknown sslmode', () => {
    expectInvalid(() => validatePgService({ ...base, sslmode: 'on' as PgServiceDefinition['sslmode'] }), 'pg_service.sslmode: sslmode must be one of');
  });

  it('refuses newlines, CR, NUL and trailing whitespace in any value, naming the field only', () => {
    for (const bad of [`${SECRET}\nhost=evil`, `${SECRET}\r`, `${SECRET}\0`]) {
      expectInvalid(() => validatePgService({ ...base, password: bad }), 'pg_service.password: password must not contain a line break or NUL character');
      expectInvalid(() => validatePgService({ ...base, extra: { sslpassword: bad } }), 'pg_service.extra.sslpassword: sslpassword must not contain a line break');
    }
    for (const bad of [` ${SECRET} `, `${SECRET}\t`, `${SECRET}\u00a0`, ' ']) {
      expectInvalid(() => validatePgService({ ...base, password: bad }), 'pg_service.password: password must not end in whitespace (libpq strips it)');
    }
    expect(validatePgService({ ...base, password: ` \t${SECRET}` }).password).toBe(` \t${SECRET}`);
    expectInvalid(() => validatePgService({ ...base, host: 'db\nport=1' }), 'pg_service.host: host must not contain a line break');
  });

  it('refuses a keyword=value line over the libpq limit, counting UTF-8 bytes', () => {
    const fits = 'é'.repeat((MAX_LINE_BYTES - 'password='.length) / 2);
    expect(Buffer.byteLength(`password=${fits}`)).toBe(MAX_LINE_BYTES);
    expect(validatePgService({ ...base, password: fits }).password).toBe(fits);
    expectInvalid(() => validatePgService({ ...base, password: `${fits}x` }), `pg_service.password: the password line is ${MAX_LINE_BYTES + 1} bytes`, fits);
  });

  it('refuses unknown keywords, service, and first-class fields in extra', () => {
    expectInvalid(() => validatePgService({ ...base, extra: { foo: SECRET } }), 'pg_service.extra: unknown libpq keyword "foo"');
    expectInvalid(() => validatePgService({ ...base, extra: { [SECRET]: 'x' } }), 'pg_service.extra: unknown libpq keyword');
    expectInvalid(() => validatePgService({ ...base, extra: { service: 'other' } }), 'pg_service.extra: service cannot be set inside a service');
    for (const keyword of ['dbname', 'user', 'password', 'host', 'port', 'sslmode']) {
      expectInvalid(() => validatePgService({ ...base, extra: { [keyword]: SECRET } }), `pg_service.extra: ${keyword} has its own field; do not put it in extra`);
    }
  });

  it('refuses non-string values in extra and in string fields', () => {
    expectInvalid(() => validatePgService({ ...base, extra: { connect_timeout: 5 as unknown as string } }), 'pg_service.extra.connect_timeout: must be a string');
    expectInvalid(() => validatePgService({ ...base, user: 7 as unknown as string }), 'pg_service.user: must be a string');
  });

  it('uses the field prefix it is given', () => {
    expectInvalid(() => validatePgService({ ...base, port: 0 }, 'value'), 'value.port: port must be a whole number');
  });
});

/** A value libpq can carry: no line breaks or NUL, no trailing whitespace; short, so lines fit. */
const libpqValue = fc
  .string({ unit: 'grapheme', maxLength: 40 })
  .map((value) => value.trimEnd())
  .filter((value) => !/[\n\r\0]/.test(value));

const definitionArb: fc.Arbitrary<PgServiceDefinition> = fc.record(
  {
    service: fc.stringMatching(new RegExp(PG_SERVICE_NAME_PATTERN)),
    host: libpqValue,
    port: fc.integer({ min: 1, max: 65535 }),
    dbname: libpqValue,
    user: libpqValue,
    password: libpqValue,
    sslmode: fc.constantFrom(...(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const)),
    extra: fc.dictionary(fc.constantFrom(...PG_SERVICE_EXTRA_KEYWORDS), libpqValue, { maxKeys: 6 }),
  },
  { requiredKeys: ['service', 'extra'] },
);

describe('serializePgServiceFile', () => {
  it('writes first-class fields first, then extra, with no spaces around =', () => {
    const body = serializePgServiceFile([
      { service: 'a', extra: { application_name: 'x', connect_timeout: '3' }, sslmode: 'disable', password: SECRET, user: 'u', dbname: 'd', port: 5432, host: 'h' },
      { service: 'b', extra: {} },
    ]);
    expect(body).toBe(
      `[a]\nhost=h\nport=5432\ndbname=d\nuser=u\npassword=${SECRET}\nsslmode=disable\napplication_name=x\nconnect_timeout=3\n\n[b]\n`,
    );
  });

  it('writes nothing for no services', () => {
    expect(serializePgServiceFile([])).toBe('');
  });

  it('writes only libpq keywords, not resolution metadata', () => {
    const resolved = { service: 'a', host: 'h', extra: {}, scope: 'project', variable_id: 'v1' } as PgServiceDefinition;
    expect(serializePgServiceFile([resolved])).toBe('[a]\nhost=h\n');
  });

  it('refuses a value that would inject a line, and duplicate names', () => {
    expectInvalid(() => serializePgServiceFile([{ service: 'a', password: `${SECRET}\nhost=evil`, extra: {} }]), 'pg_services[0].password');
    expectInvalid(() => serializePgServiceFile([{ service: 'a', extra: {} }, { service: 'a', extra: {} }]), 'pg_services[1].service: is a duplicate service name');
  });

  it('round-trips through parsePgServiceSection, section by section', () => {
    fc.assert(
      fc.property(fc.uniqueArray(definitionArb, { selector: (definition) => definition.service, maxLength: 4 }), (definitions) => {
        const body = serializePgServiceFile(definitions);
        const sections = body === '' ? [] : body.split(/\n(?=\[)/);
        expect(sections.map((section) => parsePgServiceSection(section))).toEqual(definitions.map((definition) => validatePgService(definition)));
      }),
    );
  });
});

describe('a serialized file read by the real libpq (psql)', () => {
  const PSQL = '/usr/bin/psql';
  /** The environment without PG* variables, so only the service file configures libpq. */
  const cleanEnv = (extra: Record<string, string>) => ({
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG'))),
    ...extra,
  });
  const psql = (args: string[], env: Record<string, string>) =>
    spawnSync(PSQL, args, { env: cleanEnv(env), encoding: 'utf8', timeout: 15_000 });
  const available =
    existsSync(PSQL) &&
    psql(['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'test', '-Atc', 'select 1'], { PGCONNECT_TIMEOUT: '3' }).stdout?.trim() === '1';
  // CI always has the server: there a missing one must fail the test, not skip it.
  const skip = !available && process.env.CI !== 'true';

  const dir = mkdtempSync(join(tmpdir(), 'coffer-pgservice-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const server = { host: '127.0.0.1', port: 5432, dbname: 'test', user: 'postgres', sslmode: 'disable' as const };
  const query = "select current_user, current_database(), current_setting('application_name')";
  const connect = (file: string, service: string, sql = query) => psql([`service=${service}`, '-Atc', sql], { PGSERVICEFILE: file });

  it.skipIf(skip)('connects through each of two services', () => {
    const file = join(dir, 'two.conf');
    writeFileSync(
      file,
      serializePgServiceFile([
        { service: 'coffer_main', ...server, extra: { application_name: 'coffer_test' } },
        // trust auth ignores the password; the line must still be one libpq accepts.
        { service: 'coffer.other-1', ...server, password: SECRET, extra: { application_name: 'coffer_other', connect_timeout: '5' } },
      ]),
    );
    const main = connect(file, 'coffer_main');
    expect(main.stderr).toBe('');
    expect(main.stdout).toBe('postgres|test|coffer_test\n');
    const other = connect(file, 'coffer.other-1');
    expect(other.stderr).toBe('');
    expect(other.stdout).toBe('postgres|test|coffer_other\n');
  });

  it.skipIf(skip)(`reads a line of exactly ${MAX_LINE_BYTES} bytes and refuses one byte more, as validatePgService does`, () => {
    const prefix = '-c coffer.pad=';
    const pad = 'x'.repeat(MAX_LINE_BYTES - 'options='.length - prefix.length);
    const longest = { service: 'coffer_long', ...server, extra: { options: prefix + pad } };
    const file = join(dir, 'long.conf');
    writeFileSync(file, serializePgServiceFile([longest]));
    const read = connect(file, 'coffer_long', "select length(current_setting('coffer.pad'))");
    expect(read.stderr).toBe('');
    expect(read.stdout).toBe(`${pad.length}\n`);

    const tooLong = { ...longest, extra: { options: `${prefix}${pad}x` } };
    expectInvalid(() => validatePgService(tooLong), `pg_service.extra.options: the options line is ${MAX_LINE_BYTES + 1} bytes`);
    // Written by hand, since serializePgServiceFile refuses it: libpq refuses it too.
    writeFileSync(file, `[coffer_long]\nhost=127.0.0.1\nport=5432\ndbname=test\nuser=postgres\noptions=${prefix}${pad}x\n`);
    const refused = connect(file, 'coffer_long');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('line 6 too long in service file');
  });
});

describe('raw text read by libpq itself', () => {
  /** Each raw section: parsePgServiceSection must read what libpq reads, or refuse it. */
  const RAW: Record<string, string> = {
    space_after_equals: `password= ${SECRET}`,
    tab_after_equals: `password=\t${SECRET}`,
    indented_and_trailing: `  user=report  \n\thost=db.internal\t`,
    crlf: 'host=h\r\nport=5432\r',
    hash_and_equals: 'options=-c a=b # not a comment',
    comments: '# comment\n\n  # indented comment\nsslmode=require',
    empty_value: 'dbname=',
    unicode: 'application_name=été \u2028 😀',
    inner_tab: `password=a\t${SECRET}`,
  };
  const REFUSED: Record<string, string> = {
    space_before_equals: `password =${SECRET}`,
    tab_before_equals: 'port\t=5432',
  };
  const sectionOf = (name: string, body: string) => `[${name}]\n${body}\n`;
  const file = [...Object.entries(RAW), ...Object.entries(REFUSED)].map(([name, body]) => sectionOf(name, body)).join('\n');
  const skip = libpq.missing !== null && process.env.CI !== 'true';
  const dir = mkdtempSync(join(tmpdir(), 'coffer-pgservice-raw-'));
  afterAll(() => {
    removeScratch();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)(`reads every accepted section as libpq does${libpq.missing ? ` (skipped: ${libpq.missing})` : ''}`, () => {
    const read = libpq.read(file, [...Object.keys(RAW), ...Object.keys(REFUSED)]);
    for (const [name, body] of Object.entries(RAW)) {
      const { service: _service, extra, port, ...fields } = parsePgServiceSection(sectionOf(name, body));
      const ours: Record<string, string> = { ...fields, ...extra, ...(port === undefined ? {} : { port: String(port) }) };
      const theirs = read[name]!;
      expect(Object.fromEntries(Object.keys(ours).map((keyword) => [keyword, theirs[keyword]])), name).toEqual(ours);
    }
    // What parsePgServiceSection refuses, psql refuses too: libpq reads the keyword with the space.
    const path = join(dir, 'raw.conf');
    writeFileSync(path, file);
    for (const [name, body] of Object.entries(REFUSED)) {
      expect(() => parsePgServiceSection(sectionOf(name, body)), name).toThrow(AppError);
      const psql = spawnSync('psql', ['-X', `service=${name}`, '-c', 'select 1'], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', PGSERVICEFILE: path }, encoding: 'utf8', timeout: 15_000 });
      expect(psql.stderr, name).toContain('syntax error in service file');
    }
  });
});
