import { maskSecret } from '../../kernel/mask.js';
import type { Resolution, ResolvedVariable, VariableScope } from './formats.js';
import { PRECEDENCE, REFERENCE, type Builtin, type Definition } from './resolve.js';
import { maskPgService } from './shown-value.js';

/** Where one definition of a key lives. */
export interface Provenance {
  scope: VariableScope;
  variable_id: string | null;
}

/**
 * A resolution explained (`?explain=true`): for each key, the lower-scope definitions the
 * winner overrides and the keys its value references; for each left-out key, why. Values are
 * masked as listings mask them (SPEC §3), and so is every plain value that a secret was
 * expanded into: an explanation shows where values come from, never what a secret is.
 */
export interface Explanation {
  variables: (Omit<ResolvedVariable, 'value'> & { value: string; masked: boolean; overrides: Provenance[]; references: string[] })[];
  pg_services: (ReturnType<typeof maskPgService> & Provenance & { overrides: Provenance[] })[];
  omitted: string[];
  omitted_reasons: { key: string; reason: string }[];
}

const RANK = new Map(PRECEDENCE.map((scope, index) => [scope, index]));
const byRankDescending = (a: Provenance, b: Provenance) => RANK.get(b.scope)! - RANK.get(a.scope)!;

/** The keys a template references, in order, once each (`$${` is a literal, not a reference). */
export function referencesOf(template: string): string[] {
  const names = [...template.matchAll(REFERENCE)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));
  return [...new Set(names)];
}

export function explainResolution(
  resolution: Resolution,
  definitions: readonly Definition[],
  builtins: readonly Builtin[],
  serviceSlug: (serviceId: string) => string,
): Explanation {
  const all = new Map<string, { provenance: Provenance; template: string | null; credentialOf: string | null }[]>();
  const add = (key: string, provenance: Provenance, template: string | null, credentialOf: string | null) => {
    all.set(key, [...(all.get(key) ?? []), { provenance, template, credentialOf }]);
  };
  for (const builtin of builtins) add(builtin.key, { scope: 'builtin', variable_id: null }, null, builtin.credentialOf);
  const services = new Map<string, Provenance[]>();
  for (const definition of definitions) {
    const provenance = { scope: definition.scope, variable_id: definition.variable_id };
    if (definition.type === 'pg_service') services.set(definition.definition.service, [...(services.get(definition.definition.service) ?? []), provenance]);
    else add(definition.key, provenance, definition.value, null);
  }
  const resolved = new Map(resolution.variables.map((variable) => [variable.key, variable]));
  // The winner is the resolved definition; for a left-out key, the highest-ranked (the last of equals, as resolveDefinitions keeps).
  const winnerOf = (key: string) => {
    const entries = all.get(key) ?? [];
    const variable = resolved.get(key);
    if (variable) return entries.find((e) => e.provenance.scope === variable.scope && e.provenance.variable_id === variable.variable_id);
    return entries.reduce<(typeof entries)[number] | undefined>((best, e) => (!best || RANK.get(best.provenance.scope)! <= RANK.get(e.provenance.scope)! ? e : best), undefined);
  };

  // A value is masked when it is a secret, or when a secret (directly or not) was expanded into it.
  const sensitive = new Map<string, boolean>();
  const isSensitive = (key: string, seen: Set<string> = new Set()): boolean => {
    const known = sensitive.get(key);
    if (known !== undefined) return known;
    if (seen.has(key)) return false;
    seen.add(key);
    const variable = resolved.get(key);
    const template = winnerOf(key)?.template ?? null;
    const result = variable?.type !== 'plain' || (template !== null && referencesOf(template).some((name) => isSensitive(name, seen)));
    sensitive.set(key, result);
    return result;
  };

  const variables = resolution.variables.map((variable) => {
    const winner: Provenance = { scope: variable.scope, variable_id: variable.variable_id };
    const overrides = (all.get(variable.key) ?? [])
      .map((entry) => entry.provenance)
      .filter((p) => !(p.scope === winner.scope && p.variable_id === winner.variable_id))
      .sort(byRankDescending);
    const template = variable.scope === 'builtin' ? null : (winnerOf(variable.key)?.template ?? null);
    const masked = isSensitive(variable.key);
    return { ...variable, value: masked ? maskSecret(variable.value) : variable.value, masked, overrides, references: template === null ? [] : referencesOf(template) };
  });

  const pgServices = resolution.pg_services.map(({ scope, variable_id, ...definition }) => ({
    ...maskPgService(definition),
    scope,
    variable_id,
    overrides: (services.get(definition.service) ?? []).filter((p) => p.variable_id !== variable_id).sort(byRankDescending),
  }));

  const omittedSet = new Set(resolution.omitted);
  const omittedReasons = resolution.omitted.map((key) => {
    const winner = winnerOf(key);
    if (winner?.credentialOf) {
      return { key, reason: `a database credential of service ${serviceSlug(winner.credentialOf)}: reading it needs database:read_credentials there` };
    }
    const through = referencesOf(winner?.template ?? '').find((name) => omittedSet.has(name));
    return { key, reason: `it references \${${through ?? '?'}}, which is left out, so its value would carry a credential you may not read` };
  });

  return { variables, pg_services: pgServices, omitted: resolution.omitted, omitted_reasons: omittedReasons };
}
