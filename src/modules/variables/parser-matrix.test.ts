import { existsSync } from 'node:fs';
import dotenv from 'dotenv';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { HOSTILE_VALUES, sampledValues, type HostileValue } from '../../../test/parsers/corpus.js';
import { PWNED, bash, dash, docker, jsYaml, libpq, nodeEnvFile, pythonDotenv, pyyamlC, pyyamlPure, removeScratch, type Reader } from '../../../test/parsers/readers.js';
import { AppError } from '../../kernel/errors.js';
import { render, type Format, type Resolution } from './formats.js';
import { validatePgService, type PgServiceDefinition } from './pg-service.js';

/**
 * Every export format × every parser users feed it to, over HOSTILE_VALUES: each value is read
 * back exactly, or refused naming its key. Never a different string. Each format's values go
 * to each parser in one file, so the whole matrix costs one process per parser.
 */
afterAll(removeScratch);

/** A corpus as keys V000… (valid everywhere, so only values can be refused), with labels for failures. */
function corpus(values: readonly HostileValue[]) {
  const keys = values.map((_, index) => `V${String(index).padStart(3, '0')}`);
  return {
    keys,
    labelOf: new Map(keys.map((key, index) => [key, values[index]!.label])),
    all: Object.fromEntries(keys.map((key, index) => [key, values[index]!.value])),
  };
}

const HOSTILE = corpus(HOSTILE_VALUES);
const SAMPLED = corpus(sampledValues(400, 18));

const resolutionOf = (map: Record<string, string>): Resolution => ({
  variables: Object.entries(map).map(([key, value]) => ({ key, value, type: 'secret', scope: 'project', variable_id: null })),
  pg_services: [],
  omitted: [],
});

/** What the format carries (rendered one variable at a time) and what it refuses, checking each refusal. */
function triage(format: Format, { all, labelOf }: ReturnType<typeof corpus> = HOSTILE): { carried: Record<string, string>; refused: string[] } {
  const carried: Record<string, string> = {};
  const refused: string[] = [];
  for (const [key, value] of Object.entries(all)) {
    try {
      render(resolutionOf({ [key]: value }), format);
      carried[key] = value;
    } catch (error) {
      expect(error, labelOf.get(key)).toBeInstanceOf(AppError);
      const { status, message, details } = error as AppError;
      expect(status).toBe(400);
      expect(details).toMatchObject({ key, format });
      expect(message).toMatch(new RegExp(`^Variable ${key} cannot be written as ${format} exactly \\(.+\\); use json, `));
      if (value.length >= 8) expect(message).not.toContain(value);
      refused.push(key);
    }
  }
  return { carried, refused };
}

/** Labels of the values `read` does not hold exactly (missing counts as different). */
const differences = (carried: Record<string, string>, read: Record<string, string | undefined>, labelOf: Map<string, string>) =>
  Object.keys(carried).filter((key) => read[key] !== carried[key]).map((key) => labelOf.get(key));

const inProcess = (name: string, parse: (body: string) => Record<string, unknown>): Reader => ({
  name,
  missing: null,
  read: async (body, keys) => {
    const parsed = parse(body);
    return Object.fromEntries(keys.map((key) => [key, parsed[key] as string | undefined]));
  },
});

/** The parsers CI must have (.ci/run installs them): there a missing one fails instead of skipping. */
type Parser = Pick<Reader, 'name' | 'missing'>;
const OPTIONAL = new Set<Parser>([docker, jsYaml]);
const skipped = (reader: Parser) => reader.missing !== null && (process.env.CI !== 'true' || OPTIONAL.has(reader));
const title = (format: string, reader: Parser) => `${format} × ${reader.name}${reader.missing ? ` (skipped: ${reader.missing})` : ''}`;

const MATRIX: [Format, Reader[]][] = [
  ['env-json', [inProcess('JSON.parse', (body) => JSON.parse(body) as Record<string, unknown>)]],
  ['dotenv', [inProcess('npm dotenv', (body) => dotenv.parse(body)), pythonDotenv, nodeEnvFile, bash, dash]],
  ['shell', [bash, dash]],
  ['docker', [docker]],
  [
    'yaml',
    [
      inProcess('yaml (1.2)', (body) => YAML.parse(body) as Record<string, unknown>),
      inProcess('yaml (1.1)', (body) => YAML.parse(body, { version: '1.1' }) as Record<string, unknown>),
      jsYaml,
      pyyamlC,
      pyyamlPure,
    ],
  ],
];

describe.each([
  ['hostile values', HOSTILE],
  ['sampled values', SAMPLED],
] as const)('%s', (_name, values) => {
  describe.each(MATRIX)('%s', (format, readers) => {
    const { carried, refused } = triage(format, values);
    const body = render(resolutionOf(carried), format).body;

    it(`carries at least 100 of the ${values.keys.length} values and refuses the rest naming the key`, () => {
      expect(values.keys.length).toBeGreaterThanOrEqual(100);
      expect(Object.keys(carried).length).toBeGreaterThanOrEqual(100);
      expect(Object.keys(carried).length + refused.length).toBe(values.keys.length);
    });

    for (const reader of readers) {
      it.skipIf(skipped(reader))(title(format, reader), async () => {
        expect(differences(carried, await reader.read(body, Object.keys(carried)), values.labelOf)).toEqual([]);
        expect(existsSync(PWNED)).toBe(false);
      });
    }
  });
});

describe('where the formats must agree', () => {
  it('json, env-json, yaml and shell carry every hostile value', () => {
    for (const format of ['env-json', 'yaml', 'shell'] as const) expect(triage(format).refused.map((key) => HOSTILE.labelOf.get(key)), format).toEqual([]);
    expect(JSON.parse(render(resolutionOf(HOSTILE.all), 'json').body)).toEqual(resolutionOf(HOSTILE.all));
  });

  it('dotenv and docker refuse what they cannot carry, and only that', () => {
    const refusedBy = (format: Format) => triage(format).refused.map((key) => HOSTILE.labelOf.get(key));
    expect(refusedBy('dotenv')).toEqual(
      expect.arrayContaining(['all quotes', 'braced reference', 'two backslashes', 'trailing backslash', 'carriage return', 'yaml document marker']),
    );
    expect(refusedBy('dotenv')).not.toContain('the review payload');
    expect(refusedBy('docker')).toEqual(
      expect.arrayContaining(['newline', 'trailing cr', 'single-quoted word', 'double-quoted word', 'longest stored']),
    );
    expect(refusedBy('docker')).not.toContain('carriage return');
  });
});

describe.each([
  ['hostile values', HOSTILE],
  ['sampled values', SAMPLED],
] as const)('pg_service × libpq, %s', (_name, values) => {
  const FIELDS = ['host', 'dbname', 'user', 'password'] as const;
  const serviceOf = (key: string) => key.toLowerCase();
  /** The value in every string field libpq reads, and in an extra keyword. */
  const definitionOf = (key: string, value: string): PgServiceDefinition => ({
    service: serviceOf(key),
    ...Object.fromEntries(FIELDS.map((field) => [field, value])),
    extra: { application_name: value },
  });

  const carried: Record<string, string> = {};
  for (const [key, value] of Object.entries(values.all)) {
    try {
      validatePgService(definitionOf(key, value));
      carried[key] = value;
    } catch (error) {
      expect((error as AppError).code).toBe('VALIDATION_FAILED');
      expect((error as AppError).message).toMatch(/^pg_service\.(host|dbname|user|password|extra\.application_name): /);
    }
  }

  it('carries at least 100 of the values', () => {
    expect(Object.keys(carried).length).toBeGreaterThanOrEqual(100);
  });

  it.skipIf(skipped(libpq))(title('pg_service', libpq), () => {
    const services = Object.entries(carried).map(([key, value]) => ({ ...definitionOf(key, value), scope: 'project' as const, variable_id: key }));
    const body = render({ variables: [], pg_services: services, omitted: [] }, 'pg_service').body;
    const read = libpq.read(body, services.map((service) => service.service));
    const wrong = Object.entries(carried).filter(([key, value]) => {
      const options = read[serviceOf(key)];
      return !options || [...FIELDS, 'application_name'].some((field) => options[field] !== value);
    });
    expect(wrong.map(([key]) => values.labelOf.get(key))).toEqual([]);
  });
});
