import { Type } from 'typebox';

/**
 * Vault's KV version 2 shapes (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2),
 * the subset deployment tools read. Kept loose where Vault's own responses carry more fields.
 */
export const VaultErrorResponse = Type.Object({ errors: Type.Array(Type.String()) }, { description: "Vault's error shape" });

export const vaultErrorResponses = {
  400: VaultErrorResponse,
  403: VaultErrorResponse,
  404: VaultErrorResponse,
  405: VaultErrorResponse,
};

/** `?version=N` of KV v2; 0 (Vault's "latest") or the path's current version. */
export const DataQuery = Type.Object({
  version: Type.Optional(Type.Integer({ minimum: 0, description: 'Vault version; 0 or absent for the current one' })),
});

/** Go clients (vault CLI, ESO, Vault Agent) send LIST as `GET ?list=true`; node-vault's noCustomHTTPVerbs as `?list=1`. */
export const MetadataQuery = Type.Object({
  list: Type.Optional(Type.Enum(['true', '1', 't', 'false', '0', 'f'], { description: 'true (or 1) lists the children of the path' })),
});

export const isListing = (query: { list?: string }) => query.list === 'true' || query.list === '1' || query.list === 't';

const VersionMetadata = Type.Object({
  version: Type.Integer(),
  created_time: Type.String(),
  deletion_time: Type.String(),
  destroyed: Type.Boolean(),
  custom_metadata: Type.Null(),
});

/** Fields every Vault response carries around `data`. */
const envelope = { request_id: Type.String(), lease_id: Type.String(), renewable: Type.Boolean(), lease_duration: Type.Integer(), wrap_info: Type.Null(), warnings: Type.Null(), auth: Type.Null() };

export const DataResponse = Type.Object({
  ...envelope,
  data: Type.Object({ data: Type.Record(Type.String(), Type.String()), metadata: VersionMetadata }),
});

export const ListResponse = Type.Object({ ...envelope, data: Type.Object({ keys: Type.Array(Type.String()) }) });

export const MetadataResponse = Type.Object({
  ...envelope,
  data: Type.Object({
    current_version: Type.Integer(),
    oldest_version: Type.Integer(),
    max_versions: Type.Integer(),
    cas_required: Type.Boolean(),
    delete_version_after: Type.String(),
    created_time: Type.String(),
    updated_time: Type.String(),
    custom_metadata: Type.Null(),
    versions: Type.Record(Type.String(), Type.Object({ created_time: Type.String(), deletion_time: Type.String(), destroyed: Type.Boolean() })),
  }),
});

export const HealthResponse = Type.Object({
  initialized: Type.Boolean(),
  sealed: Type.Boolean(),
  standby: Type.Boolean(),
  performance_standby: Type.Boolean(),
  replication_performance_mode: Type.String(),
  replication_dr_mode: Type.String(),
  server_time_utc: Type.Integer(),
  version: Type.String(),
  cluster_name: Type.String(),
});

export const TokenLookupResponse = Type.Object({
  ...envelope,
  data: Type.Object({
    accessor: Type.String(),
    creation_time: Type.Integer(),
    creation_ttl: Type.Integer(),
    display_name: Type.String(),
    entity_id: Type.String(),
    expire_time: Type.Union([Type.String(), Type.Null()]),
    explicit_max_ttl: Type.Integer(),
    id: Type.String({ description: 'Always empty: the token is never echoed' }),
    meta: Type.Record(Type.String(), Type.String()),
    num_uses: Type.Integer(),
    orphan: Type.Boolean(),
    path: Type.String(),
    policies: Type.Array(Type.String()),
    renewable: Type.Boolean(),
    ttl: Type.Integer(),
    type: Type.String(),
  }),
});

const Mount = Type.Object({
  type: Type.String(),
  description: Type.String(),
  options: Type.Object({ version: Type.String() }),
  path: Type.Optional(Type.String()),
  local: Type.Boolean(),
  seal_wrap: Type.Boolean(),
  external_entropy_access: Type.Boolean(),
  config: Type.Object({ default_lease_ttl: Type.Integer(), max_lease_ttl: Type.Integer(), force_no_cache: Type.Boolean() }),
});

export const MountResponse = Type.Object({ ...envelope, data: Mount });
export const MountsResponse = Type.Object({ ...envelope, data: Type.Record(Type.String(), Mount) }, { additionalProperties: true });

export const MountPathParams = Type.Object({ org: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), '*': Type.Optional(Type.String({ maxLength: 1024 })) });
