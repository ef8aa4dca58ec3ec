import type { Service, VariableType } from '../../kernel/db/schema.js';
import { AppError } from '../../kernel/errors.js';
import { isCredentialOutput, isSecretOutput } from '../services/credentials.js';
import type { PgServiceDefinition } from './pg-service.js';
import { MAX_FILE_BYTES, MAX_VALUE_BYTES } from './rules.js';
import type { Resolution, ResolvedPgService, ResolvedVariable, VariableScope } from './formats.js';

/** SPEC §3 precedence, lowest first: the most specific definition of a key wins. */
export const PRECEDENCE: readonly VariableScope[] = ['builtin', 'organization', 'project', 'environment', 'service', 'member'];
const RANK = new Map(PRECEDENCE.map((scope, index) => [scope, index]));

/** One decrypted definition at some scope; `version` is set for client ciphertext (bound into it). */
export type Definition =
  | { scope: VariableScope; variable_id: string; type: Exclude<VariableType, 'pg_service'>; key: string; value: string; mount_path: string | null; version?: number }
  | { scope: VariableScope; variable_id: string; type: 'pg_service'; definition: PgServiceDefinition };

/** A built-in variable derived from a service output. */
export interface Builtin {
  key: string;
  value: string;
  secret: boolean;
  /** Set for database credentials: readable only with database:read_credentials on this service. */
  credentialOf: string | null;
  /** The service whose output it is. */
  serviceId: string;
}

/** `COFFER_<KIND>_<SLUG>_<OUTPUT>`: slug and output upper-cased, `-` → `_` (SPEC §3). */
export function builtinKey(service: Pick<Service, 'kind' | 'slug'>, output: string): string {
  const part = (text: string) => text.toUpperCase().replace(/-/g, '_');
  return `COFFER_${part(service.kind)}_${part(service.slug)}_${part(output)}`;
}

/** The built-in variables of an environment's services. */
export function builtinsOf(services: readonly Pick<Service, 'id' | 'kind' | 'slug' | 'outputs'>[]): Builtin[] {
  return services.flatMap((service) =>
    Object.entries(service.outputs).map(([output, value]) => {
      const secret = isSecretOutput(output);
      const credential = isCredentialOutput(service.kind, output);
      return { key: builtinKey(service, output), value, secret, credentialOf: credential ? service.id : null, serviceId: service.id };
    }),
  );
}

// `$${` first, so an escaped reference is never read as one.
export const REFERENCE = /\$\$\{|\$\{([A-Z_][A-Z0-9_]*)\}/g;

/**
 * A resolution carries at most this many bytes of values (UTF-8, after expansion). Without a
 * bound, a few variables that each reference another several times grow exponentially: three
 * made one resolution take ~600 MB. A process environment holds far less anyway (Linux: about
 * 2 MiB for arguments and environment together); files count too.
 */
export const MAX_RESOLUTION_BYTES = 16 * 1024 * 1024;

const tooLarge = (key: string, message: string, limit: number) =>
  new AppError('UNPROCESSABLE', `Variable ${key} ${message}`, { key, limit_bytes: limit });

/** The winning definition of each key, before references are expanded. */
export type Winners = Map<string, { rank: number; variable: ResolvedVariable; credentialOf: string | null }>;

/**
 * Merges definitions by precedence and finds the credentials the caller may not read
 * (`omitted`), without expanding anything: what a client-managed project's resolution
 * answers, since only the client can read its values.
 */
export function mergeDefinitions(
  definitions: readonly Definition[],
  builtins: readonly Builtin[],
  mayReadCredentials: (serviceId: string) => boolean,
): { winners: Winners; pgServices: ResolvedPgService[]; omitted: Set<string> } {
  const winners: Winners = new Map();
  const consider = (rank: number, variable: ResolvedVariable, credentialOf: string | null) => {
    const current = winners.get(variable.key);
    if (!current || current.rank <= rank) winners.set(variable.key, { rank, variable, credentialOf });
  };
  for (const builtin of builtins) {
    consider(0, { key: builtin.key, value: builtin.value, type: builtin.secret ? 'secret' : 'plain', scope: 'builtin', variable_id: null }, builtin.credentialOf);
  }

  const services = new Map<string, { rank: number; entry: ResolvedPgService }>();
  for (const definition of definitions) {
    const rank = RANK.get(definition.scope)!;
    if (definition.type === 'pg_service') {
      const current = services.get(definition.definition.service);
      if (!current || current.rank <= rank) {
        services.set(definition.definition.service, { rank, entry: { ...definition.definition, scope: definition.scope, variable_id: definition.variable_id } });
      }
      continue;
    }
    const variable: ResolvedVariable = { key: definition.key, value: definition.value, type: definition.type, scope: definition.scope, variable_id: definition.variable_id };
    if (definition.mount_path !== null) variable.mount_path = definition.mount_path;
    if (definition.version !== undefined) variable.version = definition.version;
    consider(rank, variable, null);
  }

  const omitted = new Set<string>();
  for (const [key, winner] of winners) {
    if (winner.credentialOf !== null && !mayReadCredentials(winner.credentialOf)) omitted.add(key);
  }
  const pgServices = [...services.values()].map((s) => s.entry).sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  return { winners, pgServices, omitted };
}

/**
 * Merges definitions by precedence, drops credentials the caller may not read (listing them
 * in `omitted`, with every variable that references one), and expands `${KEY}` references
 * against the merged set. `$${` is a literal `${`. A missing reference or a cycle is a 422
 * naming the keys.
 */
export function resolveDefinitions(
  definitions: readonly Definition[],
  builtins: readonly Builtin[],
  mayReadCredentials: (serviceId: string) => boolean,
): Resolution {
  const { winners, pgServices, omitted } = mergeDefinitions(definitions, builtins, mayReadCredentials);
  const expanded = expandReferences(winners, omitted);
  const variables = [...expanded.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { variables, pg_services: pgServices, omitted: [...omitted].sort() };
}

/**
 * Expands `${KEY}` references among merged winners (SPEC §3), skipping and adding to `omitted`
 * whatever references an omitted key. The CLI calls it too, after decrypting a client-managed
 * project's values: one set of rules and errors on both sides.
 */
export function expandReferences(winners: ReadonlyMap<string, { variable: ResolvedVariable }>, omitted: Set<string>): Map<string, ResolvedVariable> {
  const done = new Map<string, ResolvedVariable>();
  const bytesOf = new Map<string, number>();
  const inProgress: string[] = [];
  let total = 0;

  /** Expands one value piece by piece, stopping as soon as it outgrows what a stored value may hold. */
  const expand = (key: string, variable: ResolvedVariable): string | undefined => {
    const limit = variable.type === 'file' ? MAX_FILE_BYTES : MAX_VALUE_BYTES;
    const parts: string[] = [];
    let bytes = 0;
    const add = (text: string, size = Buffer.byteLength(text, 'utf8')) => {
      bytes += size;
      if (bytes > limit) throw tooLarge(key, `expands to more than ${limit} bytes, the most a ${variable.type} value may hold`, limit);
      parts.push(text);
    };
    let last = 0;
    let hidden = false;
    for (const match of variable.value.matchAll(REFERENCE)) {
      add(variable.value.slice(last, match.index));
      last = match.index + match[0].length;
      const name = match[1];
      if (name === undefined) {
        add('${');
        continue;
      }
      const resolved = visit(name, key);
      if (resolved === undefined) hidden = true;
      else add(resolved, bytesOf.get(name));
    }
    add(variable.value.slice(last));
    return hidden ? undefined : parts.join('');
  };

  // Returns the expanded value, or undefined when the key (or something it references) is omitted.
  const visit = (key: string, referencedBy: string | null): string | undefined => {
    if (omitted.has(key)) return undefined;
    const finished = done.get(key);
    if (finished) return finished.value;
    const winner = winners.get(key);
    if (!winner) {
      throw new AppError('UNPROCESSABLE', `Variable ${referencedBy} references \${${key}}, which is not defined here`, {
        key: referencedBy,
        missing: key,
      });
    }
    const cycleStart = inProgress.indexOf(key);
    if (cycleStart !== -1) {
      const cycle = [...inProgress.slice(cycleStart), key];
      throw new AppError('UNPROCESSABLE', `Variables reference each other in a cycle: ${cycle.join(' → ')}`, { cycle });
    }
    // Built-in values come from the platform as they are: never templates.
    inProgress.push(key);
    const value = winner.variable.scope === 'builtin' ? winner.variable.value : expand(key, winner.variable);
    inProgress.pop();
    if (value === undefined) {
      // It would carry a credential the caller may not read: left out like the credential itself.
      omitted.add(key);
      return undefined;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    total += bytes;
    if (total > MAX_RESOLUTION_BYTES) {
      throw tooLarge(key, `takes the resolution past ${MAX_RESOLUTION_BYTES} bytes of values, the most one resolution carries`, MAX_RESOLUTION_BYTES);
    }
    bytesOf.set(key, bytes);
    done.set(key, { ...winner.variable, value });
    return value;
  };

  for (const key of winners.keys()) visit(key, null);
  return done;
}
