import type { Kysely } from 'kysely';
import { openValue } from './sealed-value.js';
import type { Database, Service } from '../../kernel/db/schema.js';
import { notFound } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { resourceOf } from '../../kernel/authz/scope.js';
import type { KeySets } from '../audit/key-sets.js';
import type { ServiceOutputs } from '../services/outputs.js';
import type { ReadAuditBatcher } from '../audit/read-batcher.js';
import type { AuditEventInput } from '../audit/recorder.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { PgServiceDefinition } from './pg-service.js';
import { render, type Format, type VariableScope } from './formats.js';
import { createVariablesRepo } from './repo.js';
import { explainResolution } from './explain.js';
import { builtinsOf, resolveDefinitions, type Builtin, type Definition } from './resolve.js';
import type { ResolutionCache } from './resolution-cache.js';
import { clientResolution } from './client-resolution.js';
import { clientManagedRefusal } from './client-values.js';

/** What one (place, member) resolves from, decrypted, plus its renderings per credential access and format. */
export interface ResolutionInputs {
  definitions: Definition[];
  builtins: Builtin[];
  /** The environment's services, in a stable order, and those whose outputs hold database credentials. */
  services: Service[];
  credentialIds: ReadonlySet<string>;
  rendered: Map<string, Rendered>;
}

interface Rendered {
  contentType: string;
  body: string;
  /** `body` as UTF-8, encoded once: what the HTTP route sends, with its length known. */
  bytes: Buffer;
  keys: string[];
  /** The stored key list's digest, once stored (see audit/key-sets.ts). */
  keySet?: string;
  services: string[];
  omitted: string[];
  /** The READ_SECRET events of this rendering by path and whether on behalf of a member: built once, so their details are serialised once. */
  events?: Map<string, AuditEventInput>;
}

export function createResolver(deps: {
  db: Kysely<Database>;
  keyring: Keyring;
  readAudit: ReadAuditBatcher;
  keySets: KeySets;
  outputs: ServiceOutputs;
  cache: ResolutionCache<ResolutionInputs>;
}) {
  const repo = createVariablesRepo(deps.db);

  async function load(ids: { organizationId: string; projectId: string; environmentId: string; serviceId: string | null; memberId: string | null }, clientManaged: boolean): Promise<ResolutionInputs> {
    const [rows, sealed] = await Promise.all([repo.reaching(ids), repo.servicesOf(ids.environmentId)]);
    const services = await deps.outputs.open(deps.db, sealed);
    const keys = await deps.keyring.byIds(deps.db, rows.map((row) => row.data_key_id));
    const definitions = rows.map((row): Definition => {
      const plaintext = openValue(keys.get(row.data_key_id)!, row, row.version, row.ciphertext!);
      const scope: VariableScope = row.assignee_user_id !== null ? 'member' : row.scope;
      return row.type === 'pg_service'
        ? { scope, variable_id: row.id, type: 'pg_service', definition: JSON.parse(plaintext) as PgServiceDefinition }
        : {
            scope,
            variable_id: row.id,
            type: row.type,
            key: row.name,
            value: plaintext,
            mount_path: row.mount_path,
            // The project's own values are client ciphertext, bound to their version; organization ones stay server-managed.
            ...(clientManaged && row.scope !== 'organization' ? { version: row.version } : {}),
          };
    });
    const builtins = builtinsOf(services);
    const credentialIds = new Set(builtins.flatMap((builtin) => (builtin.credentialOf ? [builtin.credentialOf] : [])));
    return { definitions, builtins, services, credentialIds, rendered: new Map() };
  }

  /** READ_SECRET of one rendering; its target is the place the rendering was made for. */
  function readEvent(rendered: Rendered, format: Format, memberId: string | null, onBehalf: boolean, place: { path: string; targetType: string; targetId: string; explained: boolean; clientManaged: boolean }): AuditEventInput {
    const { path, targetType, targetId, explained, clientManaged } = place;
    return {
      event_type: 'READ_SECRET',
      target_type: targetType,
      target_id: targetId,
      target_name: path,
      change: `Resolved ${rendered.keys.length} variables${rendered.services.length ? ` and ${rendered.services.length} pg_service entries` : ''} of ${path} as ${format}${explained ? ' (explained, values masked)' : ''}${onBehalf ? ' on behalf of a member' : ''}`,
      details: {
        path,
        format,
        member_id: memberId,
        key_count: rendered.keys.length,
        key_set: rendered.keySet,
        pg_services: rendered.services,
        omitted: rendered.omitted,
        // Issue #13: for a client-managed project the answer was ciphertext, and the server held no key for it.
        ...(clientManaged ? { encryption: 'client', server_held_key: false } : {}),
      },
    };
  }

  return {
    /**
     * The merged set for the request's environment or service (SPEC §3), for the caller or
     * on behalf of `member`. A warm answer costs no database read and no decryption; the
     * READ_SECRET event is durable before the answer is sent, warm or not.
     */
    async resolve(access: RequestAccess, options: { format: Format; member?: string; explain?: boolean }) {
      // Resolution routes name an environment, or a service in one.
      const { organization, project, environment } = resourceOf(access.scope, 'environment');
      const { service } = access.scope;
      const clientManaged = project.encryption === 'client';
      if (clientManaged && options.format !== 'json') throw clientManagedRefusal(project, `render its values as ${options.format}`);
      const principal = access.principal;
      const self = principal.kind === 'user' ? principal.user.id : null;
      let memberId = self;
      if (options.member !== undefined && options.member !== self) {
        access.require('authz:check', { kind: 'organization', organization });
        if (!(await repo.isMember(organization.id, options.member))) throw notFound('Member');
        memberId = options.member;
      }

      const key = `${environment.id}|${service?.id ?? ''}|${memberId ?? ''}`;
      let inputs = deps.cache.get(organization.id, key);
      if (!inputs) {
        const generation = deps.cache.begin(organization.id);
        inputs = await load({ organizationId: organization.id, projectId: project.id, environmentId: environment.id, serviceId: service?.id ?? null, memberId }, clientManaged);
        deps.cache.set(organization.id, key, generation, inputs);
      }

      // Permissions are never cached: for each service of the environment, may this caller
      // decrypt there (its built-ins come only to those: a token limited to one service never
      // learns its siblings' outputs), and read its database credentials?
      const usable = new Set<string>();
      const readable = new Set<string>();
      let access_ = '';
      for (const each of inputs.services) {
        const resource = { kind: 'service' as const, organization, project, environment, service: each };
        const use = access.can('secret:decrypt', resource);
        const credentials = use && inputs.credentialIds.has(each.id) && access.can('database:read_credentials', resource);
        if (use) usable.add(each.id);
        if (credentials) readable.add(each.id);
        access_ += `${use ? 1 : 0}${credentials ? 1 : 0}`;
      }
      const renderKey = `${access_}|${options.format}${options.explain ? '|explain' : ''}`;
      let rendered = inputs.rendered.get(renderKey);
      if (!rendered) {
        const builtins = inputs.builtins.filter((builtin) => usable.has(builtin.serviceId));
        const mayRead = (id: string) => readable.has(id);
        const binding = { organization_id: organization.id, project_id: project.id, environment_id: environment.id, service_id: service?.id ?? null, member_id: memberId };
        const resolution = clientManaged ? clientResolution(inputs.definitions, builtins, mayRead, binding) : resolveDefinitions(inputs.definitions, builtins, mayRead);
        const slugOf = (id: string) => inputs.services.find((each) => each.id === id)?.slug ?? id;
        // A client-managed answer is ciphertext the client expands itself: it has no explanation to give.
        const text = clientManaged
          ? { contentType: 'application/json', body: JSON.stringify(resolution) }
          : options.explain
            ? { contentType: 'application/json', body: JSON.stringify(explainResolution(resolution, inputs.definitions, builtins, slugOf)) }
            : render(resolution, options.format);
        rendered = {
          ...text,
          bytes: Buffer.from(text.body),
          keys: resolution.variables.map((variable) => variable.key),
          services: resolution.pg_services.map((entry) => entry.service),
          omitted: resolution.omitted,
        };
        inputs.rendered.set(renderKey, rendered);
      }

      // The key list is stored once, before the first event that names it by digest.
      rendered.keySet ??= await deps.keySets.ensure(organization.id, rendered.keys);
      const onBehalf = memberId !== self;
      const path = `${project.slug}/${environment.slug}${service ? `/${service.slug}` : ''}`;
      const events = (rendered.events ??= new Map());
      let event = events.get(`${onBehalf}|${path}`);
      if (!event) {
        const place = { path, targetType: service ? 'service' : 'environment', targetId: service?.id ?? environment.id, explained: options.explain === true, clientManaged };
        event = readEvent(rendered, options.format, memberId, onBehalf, place);
        events.set(`${onBehalf}|${path}`, event);
      }
      await deps.readAudit.record(access.audit, event);
      return rendered;
    },
  };
}

export type Resolver = ReturnType<typeof createResolver>;
