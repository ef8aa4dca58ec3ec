import { describe, expect, it } from 'vitest';
import { PRECEDENCE } from './resolve.js';
import { type DefinedScope, nextId, def, pg, builtin, everything, resolve, valueOf, variableOf, caught, PAIRS, at } from '../../../test/fixtures/resolve-definitions.js';

describe('PRECEDENCE', () => {
  it('is builtin < organization < project < environment < service < member (SPEC §3)', () => {
    expect(PRECEDENCE).toEqual(['builtin', 'organization', 'project', 'environment', 'service', 'member']);
    expect(PAIRS).toHaveLength(15);
  });
});

describe('resolveDefinitions: precedence of a key', () => {
  it.each(PAIRS)('%s < %s: the higher definition wins in either input order and its scope is reported', (lower, higher) => {
    const low = at(lower, 'SHARED', `from-${lower}`);
    const highId = nextId();
    const high = at(higher, 'SHARED', `from-${higher}`, highId);
    for (const [first, second] of [
      [low, high],
      [high, low],
    ]) {
      const resolution = resolve([...first!.definitions, ...second!.definitions], [...first!.builtins, ...second!.builtins]);
      expect(resolution.variables).toEqual([{ key: 'SHARED', value: `from-${higher}`, type: 'plain', scope: higher, variable_id: highId }]);
      expect(resolution.omitted).toEqual([]);
    }
  });

  it('keeps the winner among all six levels, and falls back level by level as the higher ones go', () => {
    const all = PRECEDENCE.map((scope) => ({ scope, ...at(scope, 'KEY', scope) }));
    for (let top = PRECEDENCE.length - 1; top >= 0; top -= 1) {
      const present = all.slice(0, top + 1).reverse();
      const resolution = resolve(
        present.flatMap((entry) => entry.definitions),
        present.flatMap((entry) => entry.builtins),
      );
      expect(variableOf(resolution, 'KEY')).toMatchObject({ value: PRECEDENCE[top], scope: PRECEDENCE[top] });
    }
  });

  it('reports a builtin winner with scope builtin, no variable_id, and type secret for a secret output', () => {
    const resolution = resolve([], [builtin('COFFER_APPLICATION_API_URL', 'https://api'), builtin('COFFER_APPLICATION_API_TOKEN', 't0k', { secret: true })]);
    expect(resolution.variables).toEqual([
      { key: 'COFFER_APPLICATION_API_TOKEN', value: 't0k', type: 'secret', scope: 'builtin', variable_id: null },
      { key: 'COFFER_APPLICATION_API_URL', value: 'https://api', type: 'plain', scope: 'builtin', variable_id: null },
    ]);
  });

  it('keeps the type and mount_path of the winning definition', () => {
    const resolution = resolve([
      def('organization', 'CERT', 'org-cert', { type: 'secret' }),
      def('environment', 'CERT', '-----BEGIN-----', { type: 'file', mount_path: '/etc/cert.pem' }),
      def('project', 'PLAIN', 'p'),
    ]);
    expect(variableOf(resolution, 'CERT')).toMatchObject({ type: 'file', mount_path: '/etc/cert.pem', value: '-----BEGIN-----', scope: 'environment' });
    expect(variableOf(resolution, 'PLAIN')).not.toHaveProperty('mount_path');
  });

  it('keeps keys defined at one level only', () => {
    const resolution = resolve([def('organization', 'ORG_ONLY', 'o'), def('service', 'SVC_ONLY', 's'), def('member', 'MINE', 'm')], [builtin('COFFER_JOB_X_URL', 'u')]);
    expect(resolution.variables.map((v) => [v.key, v.value, v.scope])).toEqual([
      ['COFFER_JOB_X_URL', 'u', 'builtin'],
      ['MINE', 'm', 'member'],
      ['ORG_ONLY', 'o', 'organization'],
      ['SVC_ONLY', 's', 'service'],
    ]);
  });
});

describe('resolveDefinitions: pg_service entries', () => {
  const PG_PAIRS = PAIRS.filter(([lower]) => lower !== 'builtin') as [DefinedScope, DefinedScope][];

  it.each(PG_PAIRS)('%s < %s: the same service name merges to the higher entry in either order', (lower, higher) => {
    const highId = nextId();
    const low = pg(lower, { service: 'ninja', user: `user_${lower}`, host: 'db.internal', port: 5432 });
    const high = pg(higher, { service: 'ninja', user: `user_${higher}`, dbname: 'gis' }, highId);
    for (const definitions of [
      [low, high],
      [high, low],
    ]) {
      const resolution = resolve(definitions);
      // The whole winning entry, not a field-by-field merge with the lower one.
      expect(resolution.pg_services).toEqual([{ service: 'ninja', user: `user_${higher}`, dbname: 'gis', extra: {}, scope: higher, variable_id: highId }]);
      expect(resolution.variables).toEqual([]);
    }
  });

  it('keeps entries with different service names, whatever their scopes, sorted by name', () => {
    const resolution = resolve([
      pg('member', { service: 'zeta', user: 'z' }),
      pg('organization', { service: 'alpha', user: 'a' }),
      pg('service', { service: 'ninja', user: 'n' }),
      pg('project', { service: 'ninja', user: 'loses' }),
    ]);
    expect(resolution.pg_services.map((entry) => [entry.service, entry.user, entry.scope])).toEqual([
      ['alpha', 'a', 'organization'],
      ['ninja', 'n', 'service'],
      ['zeta', 'z', 'member'],
    ]);
  });

  it('the seed 002 scenario: organization, then project, then user-assigned wins', () => {
    const org = pg('organization', { service: 'ninja', user: 'ninja_org' });
    const project = pg('project', { service: 'ninja', user: 'ninja_project' });
    const mine = pg('member', { service: 'ninja', user: 'ninja_user' });
    expect(resolve([org]).pg_services[0]?.user).toBe('ninja_org');
    expect(resolve([org, project]).pg_services[0]?.user).toBe('ninja_project');
    expect(resolve([mine, org, project]).pg_services[0]?.user).toBe('ninja_user');
  });

  it('keeps a pg_service entry and a variable apart even when the name matches a key', () => {
    const resolution = resolve([pg('project', { service: 'DATABASE', user: 'u' }), def('organization', 'DATABASE', 'v')]);
    expect(resolution.pg_services.map((entry) => entry.service)).toEqual(['DATABASE']);
    expect(valueOf(resolution, 'DATABASE')).toBe('v');
  });
});

describe('resolveDefinitions: references', () => {
  it('expands ${KEY}, through chains of references', () => {
    const resolution = resolve([
      def('project', 'A', 'a(${B})'),
      def('environment', 'B', 'b(${C})'),
      def('organization', 'C', 'c(${D}${D})'),
      def('service', 'D', 'd'),
    ]);
    expect(valueOf(resolution, 'A')).toBe('a(b(c(dd)))');
    expect(valueOf(resolution, 'B')).toBe('b(c(dd))');
    expect(valueOf(resolution, 'C')).toBe('c(dd)');
  });

  it('expands a reference to a builtin', () => {
    const resolution = resolve([def('service', 'API', '${COFFER_APPLICATION_MY_API_URL}/v1')], [builtin('COFFER_APPLICATION_MY_API_URL', 'https://api.internal')]);
    expect(valueOf(resolution, 'API')).toBe('https://api.internal/v1');
  });

  it('expands the winning definition of a referenced key, wherever the referencing one lives', () => {
    const resolution = resolve([
      def('organization', 'URL', 'http://${HOST}:${PORT}'),
      def('organization', 'HOST', 'org-host'),
      def('service', 'HOST', 'svc-host'),
      def('member', 'PORT', '9999'),
      def('project', 'PORT', '80'),
    ]);
    expect(valueOf(resolution, 'URL')).toBe('http://svc-host:9999');
  });

  it("expands references inside the winner only: a losing definition's references are never followed", () => {
    const resolution = resolve([def('organization', 'A', '${NOT_DEFINED_ANYWHERE}'), def('project', 'A', 'fine')]);
    expect(valueOf(resolution, 'A')).toBe('fine');
  });

  it('reads $${KEY} as the literal ${KEY}, defined or not', () => {
    const resolution = resolve([def('project', 'A', 'x $${B} y $${MISSING}'), def('project', 'B', 'b')]);
    expect(valueOf(resolution, 'A')).toBe('x ${B} y ${MISSING}');
  });

  it('reads $${ alone as ${, and an escaped reference next to a real one', () => {
    const resolution = resolve([def('project', 'A', 'open $${ here; $${B}=${B}; end'), def('project', 'B', 'b')]);
    expect(valueOf(resolution, 'A')).toBe('open ${ here; ${B}=b; end');
  });

  it('does not expand again what a reference expanded to', () => {
    const resolution = resolve([def('project', 'A', '${B}'), def('project', 'B', '$${C}'), def('project', 'C', 'c')]);
    expect(valueOf(resolution, 'B')).toBe('${C}');
    expect(valueOf(resolution, 'A')).toBe('${C}');
  });

  it('leaves ${lowercase}, ${1ABC}, ${} and unterminated ${KEY literally', () => {
    const text = '${lowercase} ${Mixed} ${1ABC} ${} ${KEY $KEY $ {KEY}';
    const resolution = resolve([def('project', 'A', text), def('project', 'KEY', 'k')]);
    expect(valueOf(resolution, 'A')).toBe(text);
  });

  it('refuses a missing reference with UNPROCESSABLE naming both keys', () => {
    const error = caught(() => resolve([def('project', 'URL', 'http://${HOSTNAME}/')]));
    expect(error.code).toBe('UNPROCESSABLE');
    expect(error.status).toBe(422);
    expect(error.details).toEqual({ key: 'URL', missing: 'HOSTNAME' });
    expect(error.message).toContain('URL');
    expect(error.message).toContain('HOSTNAME');
  });

  it('refuses a missing reference found deep in a chain, naming the key that holds it', () => {
    const error = caught(() => resolve([def('project', 'A', '${B}'), def('project', 'B', '${C}')]));
    expect(error.code).toBe('UNPROCESSABLE');
    expect(error.details).toEqual({ key: 'B', missing: 'C' });
  });

  it('refuses a cycle A → B → A with UNPROCESSABLE naming the cycle', () => {
    const error = caught(() => resolve([def('project', 'A', 'a${B}'), def('environment', 'B', 'b${A}')]));
    expect(error.code).toBe('UNPROCESSABLE');
    expect(error.status).toBe(422);
    const cycle = error.details?.cycle as string[];
    expect(cycle.at(0)).toBe(cycle.at(-1));
    expect([...cycle].sort()).toEqual(cycle[0] === 'A' ? ['A', 'A', 'B'] : ['A', 'B', 'B']);
    expect(error.message).toContain('A');
    expect(error.message).toContain('B');
  });

  it('refuses a self-reference as a cycle', () => {
    const error = caught(() => resolve([def('project', 'SELF', 'x${SELF}')]));
    expect(error.code).toBe('UNPROCESSABLE');
    expect(error.details).toEqual({ cycle: ['SELF', 'SELF'] });
  });

  it('refuses a longer cycle and names only the keys in it, not the one leading into it', () => {
    const error = caught(() =>
      resolve([def('project', 'ENTRY', '${A}'), def('project', 'A', '${B}'), def('project', 'B', '${C}'), def('project', 'C', '${A}')], [], everything),
    );
    const cycle = error.details?.cycle as string[];
    expect(cycle.at(0)).toBe(cycle.at(-1));
    expect(new Set(cycle)).toEqual(new Set(['A', 'B', 'C']));
    expect(cycle).toHaveLength(4);
  });

  it('is not a cycle when a higher definition breaks it', () => {
    const resolution = resolve([def('project', 'A', '${B}'), def('project', 'B', '${A}'), def('service', 'B', 'fixed')]);
    expect(valueOf(resolution, 'A')).toBe('fixed');
  });
});
