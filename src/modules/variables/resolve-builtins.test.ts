import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VariableScope } from './formats.js';
import { MAX_RESOLUTION_BYTES, PRECEDENCE, builtinKey, builtinsOf, type Builtin, type Definition } from './resolve.js';
import { MAX_FILE_BYTES, MAX_VALUE_BYTES } from './rules.js';
import { type DefinedScope, nextId, def, pg, builtin, resolve, valueOf, variableOf, caught } from '../../../test/fixtures/resolve-definitions.js';

describe('resolveDefinitions: expansion size', () => {
  it('refuses three variables that reference each other repeatedly with 422 naming the key, before growing past a value', () => {
    // A = 100 × B, B = 100 × C, C = 100 × "x": 10^6 bytes if nothing stopped it (10^10 with one level more).
    const times = (text: string) => text.repeat(100);
    const definitions = [def('project', 'A', times('${B}')), def('project', 'B', times('${C}')), def('project', 'C', times('x'))];
    const error = caught(() => resolve(definitions));
    expect(error.code).toBe('UNPROCESSABLE');
    expect(error.status).toBe(422);
    expect(error.message).toBe(`Variable A expands to more than ${MAX_VALUE_BYTES} bytes, the most a plain value may hold`);
    expect(error.details).toEqual({ key: 'A', limit_bytes: MAX_VALUE_BYTES });
  });

  it('accepts a value that expands to exactly the limit, counting UTF-8 bytes', () => {
    const half = 'é'.repeat(MAX_VALUE_BYTES / 4);
    expect(Buffer.byteLength(half)).toBe(MAX_VALUE_BYTES / 2);
    expect(valueOf(resolve([def('project', 'HALF', half), def('project', 'WHOLE', '${HALF}${HALF}')]), 'WHOLE')).toHaveLength(MAX_VALUE_BYTES / 2);
    expect(caught(() => resolve([def('project', 'HALF', half), def('project', 'OVER', '${HALF}${HALF}x')])).details).toEqual({ key: 'OVER', limit_bytes: MAX_VALUE_BYTES });
  });

  it('lets a file variable expand up to the file limit', () => {
    const chunk = 'f'.repeat(MAX_VALUE_BYTES);
    const file = def('project', 'BUNDLE', '${CHUNK}'.repeat(MAX_FILE_BYTES / MAX_VALUE_BYTES), { type: 'file', mount_path: '/etc/bundle' });
    expect(valueOf(resolve([def('project', 'CHUNK', chunk), file]), 'BUNDLE')).toHaveLength(MAX_FILE_BYTES);
  });

  it('refuses a resolution whose values add up past the resolution limit, naming the key that crossed it', () => {
    const chunk = 'r'.repeat(MAX_VALUE_BYTES);
    const count = MAX_RESOLUTION_BYTES / MAX_VALUE_BYTES;
    const copies = Array.from({ length: count }, (_, index) => def('project', `COPY_${String(index).padStart(4, '0')}`, '${CHUNK}'));
    expect(() => resolve([def('project', 'CHUNK', chunk), ...copies.slice(1)])).not.toThrow();
    const error = caught(() => resolve([def('project', 'CHUNK', chunk), ...copies]));
    expect(error.status).toBe(422);
    expect(error.message).toMatch(/^Variable COPY_\d{4} takes the resolution past 16777216 bytes of values/);
    expect(error.details).toMatchObject({ limit_bytes: MAX_RESOLUTION_BYTES });
  });
});

describe('builtinKey and builtinsOf', () => {
  it('derives COFFER_DATABASE_MY_POSTGRES_HOST from kind database, slug my-postgres, output host', () => {
    expect(builtinKey({ kind: 'database', slug: 'my-postgres' }, 'host')).toBe('COFFER_DATABASE_MY_POSTGRES_HOST');
    expect(builtinKey({ kind: 'application', slug: 'my-api' }, 'url')).toBe('COFFER_APPLICATION_MY_API_URL');
    expect(builtinKey({ kind: 'job', slug: 'a-b-c-1' }, 'read_url')).toBe('COFFER_JOB_A_B_C_1_READ_URL');
  });

  it('marks user, username, password, secret and token of a database as credentials of that service', () => {
    const outputs = { host: 'db', port: '5432', database: 'app', user: 'u', username: 'un', password: 'pw', secret: 's', token: 't' };
    const builtins = builtinsOf([{ id: 'db-1', kind: 'database', slug: 'my-postgres', outputs }]);
    const byKey = Object.fromEntries(builtins.map((b) => [b.key.replace('COFFER_DATABASE_MY_POSTGRES_', ''), b]));
    for (const name of ['USER', 'USERNAME', 'PASSWORD', 'SECRET', 'TOKEN']) expect(byKey[name]?.credentialOf, name).toBe('db-1');
    for (const name of ['HOST', 'PORT', 'DATABASE']) expect(byKey[name]?.credentialOf, name).toBeNull();
    // Secrets are the outputs named password, secret and token (SPEC §3).
    expect(builtins.filter((b) => b.secret).map((b) => b.key.replace('COFFER_DATABASE_MY_POSTGRES_', '')).sort()).toEqual(['PASSWORD', 'SECRET', 'TOKEN']);
    expect(byKey.HOST).toEqual({ key: 'COFFER_DATABASE_MY_POSTGRES_HOST', value: 'db', secret: false, credentialOf: null, serviceId: expect.any(String) });
  });

  it('never makes an output of a service that is not a database a credential, even a secret one', () => {
    const builtins = builtinsOf([{ id: 'app-1', kind: 'application', slug: 'web', outputs: { url: 'https://w', token: 't', username: 'u' } }]);
    expect(builtins.map((b) => [b.key, b.secret, b.credentialOf])).toEqual([
      ['COFFER_APPLICATION_WEB_URL', false, null],
      ['COFFER_APPLICATION_WEB_TOKEN', true, null],
      ['COFFER_APPLICATION_WEB_USERNAME', false, null],
    ]);
  });
});

describe('resolveDefinitions: database credentials', () => {
  const db = { id: 'db-1', kind: 'database' as const, slug: 'my-postgres', outputs: { host: 'db.internal', port: '5432', username: 'app', password: 'pw-123', database: 'shop' } };
  const K = (output: string) => `COFFER_DATABASE_MY_POSTGRES_${output}`;

  it('gives every built-in to a caller who may read credentials', () => {
    const asked: string[] = [];
    const resolution = resolve([], builtinsOf([db]), (id) => {
      asked.push(id);
      return true;
    });
    expect(resolution.variables.map((v) => [v.key, v.value, v.type])).toEqual([
      [K('DATABASE'), 'shop', 'plain'],
      [K('HOST'), 'db.internal', 'plain'],
      [K('PASSWORD'), 'pw-123', 'secret'],
      [K('PORT'), '5432', 'plain'],
      [K('USERNAME'), 'app', 'plain'],
    ]);
    expect(resolution.omitted).toEqual([]);
    expect(new Set(asked)).toEqual(new Set(['db-1']));
  });

  it('leaves out username and password (listed in omitted) but never host, port or database', () => {
    const resolution = resolve([], builtinsOf([db]), () => false);
    expect(resolution.variables.map((v) => v.key)).toEqual([K('DATABASE'), K('HOST'), K('PORT')]);
    expect(resolution.omitted).toEqual([K('PASSWORD'), K('USERNAME')]);
  });

  it('asks per service: only the credentials of the service that may not be read are left out', () => {
    const other = { ...db, id: 'db-2', slug: 'reports' };
    const resolution = resolve([], builtinsOf([db, other]), (id) => id === 'db-2');
    expect(resolution.omitted).toEqual([K('PASSWORD'), K('USERNAME')]);
    expect(valueOf(resolution, 'COFFER_DATABASE_REPORTS_PASSWORD')).toBe('pw-123');
  });

  it('leaves out a variable that references an omitted credential, transitively, and lists them all', () => {
    const resolution = resolve(
      [
        def('environment', 'DATABASE_URL', `postgres://\${${K('USERNAME')}}:\${${K('PASSWORD')}}@\${${K('HOST')}}:\${${K('PORT')}}/\${${K('DATABASE')}}`),
        def('service', 'WRAPPED', 'url=${DATABASE_URL}'),
        def('service', 'TWICE', '[${WRAPPED}]'),
        def('service', 'ONLY_HOST', `\${${K('HOST')}}`),
      ],
      builtinsOf([db]),
      () => false,
    );
    expect(resolution.omitted).toEqual(['DATABASE_URL', K('PASSWORD'), K('USERNAME'), 'TWICE', 'WRAPPED'].sort());
    expect(resolution.variables.map((v) => v.key)).toEqual([K('DATABASE'), K('HOST'), K('PORT'), 'ONLY_HOST']);
    expect(JSON.stringify(resolution.variables)).not.toContain('pw-123');
    expect(valueOf(resolution, 'ONLY_HOST')).toBe('db.internal');
  });

  it('gives the expanded variable to a caller who may read credentials', () => {
    const resolution = resolve([def('environment', 'DATABASE_URL', `postgres://\${${K('USERNAME')}}:\${${K('PASSWORD')}}@\${${K('HOST')}}`)], builtinsOf([db]));
    expect(valueOf(resolution, 'DATABASE_URL')).toBe('postgres://app:pw-123@db.internal');
  });

  it('leaves out the referencing variable whatever order the keys come in', () => {
    // Sorted before the credential it references, and after it.
    for (const key of ['AAA_URL', 'ZZZ_URL']) {
      const resolution = resolve([def('project', key, `\${${K('PASSWORD')}}`)], builtinsOf([db]), () => false);
      expect(resolution.omitted).toContain(key);
      expect(valueOf(resolution, key)).toBeUndefined();
    }
  });

  it('keeps a user variable that overrides a credential key, and the variables that reference it', () => {
    const resolution = resolve(
      [def('project', K('PASSWORD'), 'my-own-password', { type: 'secret' }), def('service', 'URL', `\${${K('PASSWORD')}}@\${${K('HOST')}}`)],
      builtinsOf([db]),
      () => false,
    );
    expect(variableOf(resolution, K('PASSWORD'))).toMatchObject({ value: 'my-own-password', scope: 'project', type: 'secret' });
    expect(valueOf(resolution, 'URL')).toBe('my-own-password@db.internal');
    expect(resolution.omitted).toEqual([K('USERNAME')]);
  });

  it('keeps a variable that only names a credential through the $${ escape', () => {
    const resolution = resolve([def('project', 'DOC', `use $\${${K('PASSWORD')}}`)], builtinsOf([db]), () => false);
    expect(valueOf(resolution, 'DOC')).toBe(`use \${${K('PASSWORD')}}`);
    expect(resolution.omitted).not.toContain('DOC');
  });
});

describe('resolveDefinitions: properties', () => {
  const KEY = fc.constantFrom('A', 'B', 'C', 'D', 'A_1', 'Z', '_X', 'B9');
  const SCOPE = fc.constantFrom(...PRECEDENCE);
  const DEFINED_SCOPE = fc.constantFrom<DefinedScope>('organization', 'project', 'environment', 'service', 'member');
  // Values with no `${` (so neither a reference nor an escape), but $, {, } and other text.
  const NO_REFERENCE = fc.string({ unit: fc.constantFrom('$', '{', '}', 'a', 'Z', ' ', '\n', 'é', '🎉', '#', "'", '"', '\\'), maxLength: 12 }).filter((v) => !v.includes('${'));
  const ENTRY = fc.record({ key: KEY, scope: SCOPE, value: NO_REFERENCE });
  // At most one definition per (scope, key), as the database allows within one resolution.
  const ENTRIES = fc.uniqueArray(ENTRY, { selector: (entry) => `${entry.scope}|${entry.key}`, maxLength: 30 });

  const split = (entries: { key: string; scope: VariableScope; value: string }[]) => {
    const ids = new Map<string, string>();
    const definitions: Definition[] = [];
    const builtins: Builtin[] = [];
    for (const entry of entries) {
      if (entry.scope === 'builtin') builtins.push(builtin(entry.key, entry.value));
      else {
        const id = nextId();
        ids.set(`${entry.scope}|${entry.key}`, id);
        definitions.push(def(entry.scope, entry.key, entry.value, { id }));
      }
    }
    return { definitions, builtins, ids };
  };
  const rank = (scope: VariableScope) => PRECEDENCE.indexOf(scope);

  it('resolves every key to its definition at the highest scope that defines it', () => {
    fc.assert(
      fc.property(ENTRIES, (entries) => {
        const { definitions, builtins, ids } = split(entries);
        const resolution = resolve(definitions, builtins);
        const keys = new Set(entries.map((entry) => entry.key));
        expect(resolution.variables.map((v) => v.key).sort()).toEqual([...keys].sort());
        for (const key of keys) {
          const best = entries.filter((entry) => entry.key === key).reduce((a, b) => (rank(b.scope) > rank(a.scope) ? b : a));
          expect(variableOf(resolution, key)).toMatchObject({ value: best.value, scope: best.scope, variable_id: ids.get(`${best.scope}|${key}`) ?? null });
        }
        expect(resolution.omitted).toEqual([]);
      }),
    );
  });

  it('answers variables sorted by key, and pg_service entries sorted by service', () => {
    const ANY_KEY = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/);
    const SERVICE = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ key: ANY_KEY, scope: SCOPE, value: NO_REFERENCE }), { selector: (e) => `${e.scope}|${e.key}`, maxLength: 25 }),
        fc.array(fc.record({ service: SERVICE, scope: DEFINED_SCOPE }), { maxLength: 10 }),
        (entries, services) => {
          const { definitions, builtins } = split(entries);
          const resolution = resolve([...definitions, ...services.map((s) => pg(s.scope, { service: s.service }))], builtins);
          const keys = resolution.variables.map((v) => v.key);
          // Code-unit order, each key once.
          expect(keys).toEqual([...new Set(entries.map((e) => e.key))].sort());
          const names = resolution.pg_services.map((s) => s.service);
          expect(names).toEqual([...new Set(services.map((s) => s.service))].sort());
        },
      ),
    );
  });

  it('leaves values without reference syntax unchanged', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ key: KEY, value: fc.string({ unit: 'binary', maxLength: 30 }).filter((v) => !v.includes('${')) }), { selector: (e) => e.key }), (entries) => {
        const resolution = resolve(entries.map((entry) => def('project', entry.key, entry.value)));
        for (const entry of entries) expect(valueOf(resolution, entry.key)).toBe(entry.value);
      }),
    );
  });

  it('does not depend on the order definitions come in', () => {
    fc.assert(
      fc.property(
        ENTRIES.chain((entries) => fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }))),
        ([entries, shuffled]) => {
          const ids = new Map(entries.map((entry) => [`${entry.scope}|${entry.key}`, nextId()]));
          const build = (list: typeof entries) => {
            const definitions = list.filter((e) => e.scope !== 'builtin').map((e) => def(e.scope as DefinedScope, e.key, e.value, { id: ids.get(`${e.scope}|${e.key}`)! }));
            const builtins = list.filter((e) => e.scope === 'builtin').map((e) => builtin(e.key, e.value));
            return resolve(definitions, builtins);
          };
          expect(build(shuffled)).toEqual(build(entries));
        },
      ),
    );
  });

  it('expands a reference to whatever value wins for the referenced key', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ scope: SCOPE, value: NO_REFERENCE }), { selector: (e) => e.scope, minLength: 1 }), DEFINED_SCOPE, (targets, referrerScope) => {
        const { definitions, builtins } = split(targets.map((t) => ({ ...t, key: 'TARGET' })));
        const resolution = resolve([...definitions, def(referrerScope, 'REF', '<${TARGET}>')], builtins);
        const best = targets.reduce((a, b) => (rank(b.scope) > rank(a.scope) ? b : a));
        expect(valueOf(resolution, 'REF')).toBe(`<${best.value}>`);
      }),
    );
  });
});
