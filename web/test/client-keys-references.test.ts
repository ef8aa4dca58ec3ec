import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedVariable } from '../../src/modules/variables/formats.js';
import { expandReferences as serverExpand } from '../../src/modules/variables/resolve.js';
import { expandReferences as webExpand } from '../src/features/client-keys/references.js';

/** The console's `${KEY}` expansion for client-managed projects gives what the server's (and the CLI's) gives: values, omissions and errors. */
type Outcome = { values: [string, string][]; omitted: string[] } | { error: string };

function run(expand: typeof serverExpand | typeof webExpand, variables: ResolvedVariable[], omitted: string[]): Outcome {
  const winners = new Map(variables.map((variable) => [variable.key, { variable }]));
  const left = new Set(omitted);
  try {
    const done = (expand as typeof serverExpand)(winners, left);
    return { values: [...done].map(([key, v]) => [key, v.value]), omitted: [...left].sort() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const KEYS = ['A', 'B', 'C', 'DB_URL', 'COFFER_X'];
const piece = fc.oneof(fc.constantFrom(...KEYS, 'MISSING').map((k) => `\${${k}}`), fc.constantFrom('$${', '$', '{', 'text', 'ü', '${lower}', ''));
const variable = fc.record({
  key: fc.constantFrom(...KEYS),
  value: fc.array(piece, { maxLength: 5 }).map((parts) => parts.join('')),
  type: fc.constantFrom('plain' as const, 'secret' as const, 'file' as const),
  scope: fc.constantFrom('builtin' as const, 'project' as const, 'environment' as const, 'member' as const),
  variable_id: fc.constant(null),
});

describe('expandReferences in the console', () => {
  it('matches the server on examples: escapes, built-ins, omissions, a missing key, a cycle, an explosion', () => {
    const v = (key: string, value: string, extra: Partial<ResolvedVariable> = {}): ResolvedVariable => ({ key, value, type: 'plain', scope: 'project', variable_id: null, ...extra });
    const cases: [ResolvedVariable[], string[]][] = [
      [[v('HOST', 'db'), v('URL', 'postgres://${HOST}/x $${HOST}')], []],
      [[v('COFFER_PG', '${NOT_EXPANDED}', { scope: 'builtin' }), v('URL', '${COFFER_PG}')], []],
      [[v('PASS', 'p'), v('URL', 'u:${PASS}')], ['PASS']],
      [[v('URL', '${NOPE}')], []],
      [[v('A', '${B}'), v('B', '${A}')], []],
      [[v('A', 'x'.repeat(60_000)), v('B', '${A}${A}')], []],
    ];
    for (const [variables, omitted] of cases) expect(run(webExpand, variables, omitted)).toEqual(run(serverExpand, variables, omitted));
    expect(run(webExpand, cases[3]![0], [])).toEqual({ error: 'Variable URL references ${NOPE}, which is not defined here' });
  });

  it('matches the server on random sets of references', () => {
    fc.assert(
      fc.property(fc.uniqueArray(variable, { selector: (x) => x.key, maxLength: 5 }), fc.subarray(KEYS), (variables, omitted) => {
        expect(run(webExpand, variables, omitted)).toEqual(run(serverExpand, variables, omitted));
      }),
      { numRuns: 500 },
    );
  });
});
