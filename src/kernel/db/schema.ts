import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Row types as the database has them; every module's repo reads and writes through these. */
type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;
type Json<T> = ColumnType<T, string, string>;

export const ENVIRONMENT_TYPES = ['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION'] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

export const SERVICE_KINDS = ['application', 'database', 'job', 'container'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export interface UsersTable {
  id: Generated<string>;
  email: string;
  name: string;
  password_hash: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SessionsTable {
  id: Generated<string>;
  user_id: string;
  token_hash: Buffer;
  created_at: CreatedAt;
  last_seen_at: Date;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
  /** The organization whose identity provider opened the session (migration 0016); null: by password. */
  sso_organization_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface OrganizationsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  retention_days: Generated<number>;
  enforce_sso: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MembershipsTable {
  organization_id: string;
  user_id: string;
  /** A system role name, or 'CUSTOM' with role_id naming the custom role. */
  role: string;
  role_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

export interface CustomRolesTable {
  id: Generated<string>;
  organization_id: string;
  name: string;
  description: string;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CustomRoleClustersTable {
  role_id: string;
  cluster_id: string;
  permission: string;
  position: number;
}

export interface CustomRoleProjectsTable {
  role_id: string;
  project_id: string;
  is_admin: boolean;
  levels: Json<Record<string, string>>;
  position: number;
}

export interface CustomRoleEnvironmentsTable {
  role_id: string;
  environment_id: string;
  permissions: Json<string[]>;
  position: number;
}

export interface InvitationsTable {
  id: Generated<string>;
  organization_id: string;
  email: string;
  role: string;
  token_hash: Buffer;
  invited_by: string | null;
  expires_at: Date;
  accepted_at: Date | null;
  accepted_by: string | null;
  created_at: CreatedAt;
}

export interface ClustersTable {
  id: Generated<string>;
  organization_id: string;
  name: string;
  region: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ProjectsTable {
  id: Generated<string>;
  organization_id: string;
  slug: string;
  name: string;
  description: string;
  encryption: Generated<ProjectEncryption>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export const PROJECT_ENCRYPTIONS = ['server', 'client'] as const;
export type ProjectEncryption = (typeof PROJECT_ENCRYPTIONS)[number];

/** A client-managed project's key, wrapped by the client under its passphrase (migration 0014). */
export interface ProjectKeysTable {
  project_id: string;
  key_version: number;
  wrapped_key: string;
  salt: string;
  kdf_memory_kib: number;
  kdf_iterations: number;
  kdf_parallelism: number;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface EnvironmentsTable {
  id: Generated<string>;
  project_id: string;
  slug: string;
  name: string;
  type: EnvironmentType;
  cluster_id: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ServicesTable {
  id: Generated<string>;
  environment_id: string;
  slug: string;
  name: string;
  kind: ServiceKind;
  /** Plaintext only for rows written before outputs were sealed; `{}` otherwise. */
  outputs: Json<Record<string, string>>;
  /** The outputs as JSON, sealed under `outputs_key_id` and bound to the service id. */
  outputs_sealed: Buffer | null;
  outputs_key_id: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ApiTokensTable {
  id: Generated<string>;
  organization_id: string;
  name: string;
  token_hash: Buffer;
  prefix: string;
  scopes: Json<string[]>;
  project_id: string | null;
  environment_id: string | null;
  service_id: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  expires_at: Date | null;
  last_used_at: Date | null;
}

/** Hashes of revoked API tokens (migration 0011): a revoked token is told so, by date. */
export interface RevokedApiTokensTable {
  token_hash: Buffer;
  organization_id: string;
  revoked_at: CreatedAt;
}

export interface AuditEventsTable {
  id: Generated<string>;
  organization_id: string;
  seq: number;
  occurred_at: Date;
  event_type: string;
  target_type: string;
  target_id: string | null;
  target_name: string | null;
  change: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
  tool: string;
  source_ip: string | null;
  request_id: string | null;
  details: Json<Record<string, unknown>>;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface AuditChainsTable {
  organization_id: string;
  last_seq: number;
  last_hash: Buffer;
  first_seq: number;
  first_prev_hash: Buffer;
}

export interface SecurityEventsTable {
  id: Generated<string>;
  user_id: string | null;
  email: string;
  event_type: string;
  source_ip: string | null;
  user_agent: string | null;
  occurred_at: CreatedAt;
}

export interface CofferSettingsTable {
  name: string;
  value: Buffer;
  updated_at: UpdatedAt;
}

export const VARIABLE_TYPES = ['plain', 'secret', 'file', 'pg_service'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];
export const VARIABLE_SCOPES = ['organization', 'project', 'environment', 'service'] as const;
export type VariableScopeLevel = (typeof VARIABLE_SCOPES)[number];

export interface DataKeysTable {
  id: Generated<string>;
  organization_id: string;
  project_id: string | null;
  provider: string;
  wrapped: Buffer;
  created_at: CreatedAt;
  rotated_at: Date | null;
}

export interface VariablesTable {
  id: Generated<string>;
  organization_id: string;
  project_id: string | null;
  environment_id: string | null;
  service_id: string | null;
  assignee_user_id: string | null;
  scope: VariableScopeLevel;
  type: VariableType;
  /** The key, or a pg_service entry's service name. */
  name: string;
  mount_path: string | null;
  immutable: boolean;
  version: number;
  data_key_id: string;
  /** Null once deleted. */
  ciphertext: Buffer | null;
  deleted_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface VariableVersionsTable {
  variable_id: string;
  version: number;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'ROLLBACK';
  type: VariableType;
  mount_path: string | null;
  ciphertext: Buffer | null;
  rolled_back_from: number | null;
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
  created_at: CreatedAt;
}

export interface AuditKeySetsTable {
  organization_id: string;
  digest: string;
  keys: Json<string[]>;
  created_at: CreatedAt;
}

/**
 * The audit log's keys (migration 0009), wrapped by the key provider: `checkpoint-signing`,
 * `value-hmac`, and `value-hmac:<organization id>` for organizations older than that key.
 * `wrapped` is null only until the first start after the migration stores it.
 */
export interface AuditKeysTable {
  name: string;
  provider: string | null;
  wrapped: Buffer | null;
  created_at: CreatedAt;
  rotated_at: Date | null;
}

/** Attempt counters (migration 0010), written by rate-limiter-flexible's PostgreSQL store. */
export interface RateLimitsTable {
  key: string;
  points: Generated<number>;
  /** End of the counting window, epoch milliseconds. */
  expire: number | null;
}

/** OpenID Connect providers of an organization (migration 0013); the client secret only sealed. */
export interface SsoProvidersTable {
  id: string;
  organization_id: string;
  type: 'oidc' | 'saml';
  name: string;
  /** OIDC: the issuer URL; SAML: the IdP's entity ID. */
  issuer: string;
  /** Empty for SAML. */
  client_id: string;
  /** Null for SAML (migration 0017). */
  client_secret_sealed: Buffer | null;
  data_key_id: string | null;
  /** Space-separated, as OAuth sends them. */
  scopes: string;
  /** SAML: the IdP metadata as uploaded (migration 0017); null for OIDC. */
  idp_metadata_xml: Generated<string | null>;
  created_at: CreatedAt;
}

/** IDs of SAML assertions already used, until they expire (migration 0017): replays are refused. */
export interface SsoSamlAssertionsTable {
  provider_id: string;
  assertion_id: string;
  expires_at: Date;
}

/** SSO sign-ins started and not yet finished (migration 0013): single use, short-lived. */
export interface SsoLoginsTable {
  state_hash: Buffer;
  provider_id: string;
  nonce: string;
  code_verifier: string;
  redirect_uri: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: CreatedAt;
}

/** Email domains an organization claims for SSO provisioning (migration 0016). */
export interface SsoDomainsTable {
  id: string;
  organization_id: string;
  domain: string;
  verification_token: string;
  verified_at: Date | null;
  created_at: CreatedAt;
}

/** Which ID token claim carries the groups that SSO role rules match (migration 0016). */
export interface SsoRoleClaimsTable {
  organization_id: string;
  claim: string;
  updated_at: Generated<Date>;
}

/** A claim value (null: the default) and the role it gives: a system role, or 'CUSTOM' with role_id. */
export interface SsoRoleRulesTable {
  id: string;
  organization_id: string;
  value: string | null;
  role: string;
  role_id: string | null;
}

/** Who signed in with which provider as which subject, and their latest refresh token, sealed (migration 0018). */
export interface SsoIdentitiesTable {
  organization_id: string;
  user_id: string;
  provider_id: string;
  subject: string;
  refresh_token_sealed: Buffer | null;
  data_key_id: string | null;
  updated_at: Generated<Date>;
}

/** One variable change (migration 0015): keys, versions and places, never a value. */
export interface ChangesTable {
  id: Generated<number>;
  organization_id: string;
  project_id: string | null;
  environment_id: string | null;
  service_id: string | null;
  scope: VariableScopeLevel;
  assignee_user_id: string | null;
  variable_id: string;
  key: string;
  type: VariableType;
  version: number;
  operation: string;
  actor_name: string;
  created_at: CreatedAt;
}

/** Webhooks of an organization (migration 0015); the signing secret only sealed. */
export interface WebhooksTable {
  id: string;
  organization_id: string;
  project_id: string | null;
  environment_id: string | null;
  url: string;
  /** JSON array of event patterns ("variable.changed", "deployment.*", "*"). */
  events: string;
  secret_sealed: Buffer;
  data_key_id: string;
  enabled: Generated<boolean>;
  consecutive_failures: Generated<number>;
  disabled_reason: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** The webhook outbox (migration 0015): one row per webhook and event, claimed by any instance. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event: string;
  payload: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | undefined, Date>;
  last_status_code: number | null;
  last_error: string | null;
  latency_ms: number | null;
  redelivery_of: string | null;
  created_at: CreatedAt;
  completed_at: Date | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  organizations: OrganizationsTable;
  memberships: MembershipsTable;
  invitations: InvitationsTable;
  clusters: ClustersTable;
  projects: ProjectsTable;
  environments: EnvironmentsTable;
  services: ServicesTable;
  custom_roles: CustomRolesTable;
  custom_role_clusters: CustomRoleClustersTable;
  custom_role_projects: CustomRoleProjectsTable;
  custom_role_environments: CustomRoleEnvironmentsTable;
  api_tokens: ApiTokensTable;
  revoked_api_tokens: RevokedApiTokensTable;
  audit_events: AuditEventsTable;
  audit_chains: AuditChainsTable;
  security_events: SecurityEventsTable;
  coffer_settings: CofferSettingsTable;
  data_keys: DataKeysTable;
  variables: VariablesTable;
  variable_versions: VariableVersionsTable;
  audit_key_sets: AuditKeySetsTable;
  audit_keys: AuditKeysTable;
  rate_limits: RateLimitsTable;
  sso_providers: SsoProvidersTable;
  sso_logins: SsoLoginsTable;
  sso_domains: SsoDomainsTable;
  sso_role_claims: SsoRoleClaimsTable;
  sso_role_rules: SsoRoleRulesTable;
  sso_saml_assertions: SsoSamlAssertionsTable;
  sso_identities: SsoIdentitiesTable;
  project_keys: ProjectKeysTable;
  changes: ChangesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type User = Selectable<UsersTable>;
export type Session = Selectable<SessionsTable>;
export type Organization = Selectable<OrganizationsTable>;
export type Membership = Selectable<MembershipsTable>;
export type Invitation = Selectable<InvitationsTable>;
export type Cluster = Selectable<ClustersTable>;
export type Project = Selectable<ProjectsTable>;
export type ProjectKey = Selectable<ProjectKeysTable>;
export type Environment = Selectable<EnvironmentsTable>;
export type Service = Selectable<ServicesTable>;
export type Variable = Selectable<VariablesTable>;
export type VariableVersion = Selectable<VariableVersionsTable>;
export type DataKey = Selectable<DataKeysTable>;
export type CustomRole = Selectable<CustomRolesTable>;
export type ApiToken = Selectable<ApiTokensTable>;
export type SsoProvider = Selectable<SsoProvidersTable>;
export type SsoLogin = Selectable<SsoLoginsTable>;
export type SsoDomain = Selectable<SsoDomainsTable>;
export type Change = Selectable<ChangesTable>;
export type Webhook = Selectable<WebhooksTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type NewService = Insertable<ServicesTable>;
export type ServiceUpdate = Updateable<ServicesTable>;
