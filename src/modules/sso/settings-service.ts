import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { randomToken } from '../../kernel/crypto/random-token.js';
import { translateConstraint } from '../../kernel/db/errors.js';
import type { Database } from '../../kernel/db/schema.js';
import { AppError, conflict, invalid, notFound } from '../../kernel/errors.js';
import type { RequestAccess } from '../../kernel/http/guard.js';
import { withAudit } from '../audit/recorder.js';
import { isSystemRole } from '../authz/system-roles.js';
import { SSO_CONSTRAINTS, createSsoRepo } from './repo.js';
import { roleLabel, type RoleRule } from './role-rules.js';
import type { RoleMappingsInput } from './settings-schemas.js';

/** Looks up TXT records as node:dns/promises resolveTxt does: each record in chunks. */
export type TxtResolver = (name: string) => Promise<string[][]>;

/** Where the verification record goes: a name of its own, not the domain's apex TXT set. */
export const txtRecordName = (domain: string) => `_coffer-verification.${domain}`;
const txtRecordValue = (token: string) => `coffer-verification=${token}`;

/** DNS answers that mean "no such record" rather than "DNS is broken". */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/**
 * The organization's SSO settings beside its providers: verified email domains (for
 * just-in-time provisioning) and the mapping from a groups claim to roles.
 */
export function createSsoSettingsService(deps: { db: Kysely<Database>; resolveTxt: TxtResolver }) {
  const { db } = deps;
  const repo = createSsoRepo(db);

  return {
    listDomains: (access: RequestAccess) => repo.domainsOf(access.scope.organization.id),

    async addDomain(access: RequestAccess, input: { domain: string }) {
      const domain = input.domain.trim().toLowerCase().replace(/\.$/, '');
      try {
        return await withAudit(db, access.audit, async (tx, note) => {
          const row = await createSsoRepo(tx).insertDomain({ id: randomUUID(), organization_id: access.scope.organization.id, domain, verification_token: randomToken('') });
          note({ event_type: 'CREATE', target_type: 'sso_domain', target_id: row.id, target_name: domain, change: `Added SSO domain ${domain} (unverified)` });
          return row;
        });
      } catch (error) {
        throw translateConstraint(error, { [SSO_CONSTRAINTS.domain]: () => conflict(`Domain ${domain} is already added to this organization`, { field: 'domain' }) });
      }
    },

    /** Looks the TXT record up now; verified once it holds the token. */
    async verifyDomain(access: RequestAccess, id: string) {
      const organizationId = access.scope.organization.id;
      const row = await repo.domain(organizationId, id);
      if (!row) throw notFound('SSO domain');
      if (row.verified_at) return row;
      const name = txtRecordName(row.domain);
      let records: string[][];
      try {
        records = await deps.resolveTxt(name);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (!code || !ABSENT.has(code)) throw new AppError('UNAVAILABLE', `DNS lookup of ${name} failed (${code ?? 'error'}); try again later`);
        records = [];
      }
      if (!records.some((chunks) => chunks.join('') === txtRecordValue(row.verification_token))) {
        throw new AppError('UNPROCESSABLE', `No TXT record ${name} with the value ${txtRecordValue(row.verification_token)} was found; add it and verify again (DNS changes may take a while to appear)`, { record: name });
      }
      try {
        return await withAudit(db, access.audit, async (tx, note) => {
          const verified = await createSsoRepo(tx).markDomainVerified(row.id);
          note({ event_type: 'UPDATE', target_type: 'sso_domain', target_id: row.id, target_name: row.domain, change: `Verified SSO domain ${row.domain} by DNS`, details: { after: { verified: true } } });
          return verified;
        });
      } catch (error) {
        throw translateConstraint(error, { [SSO_CONSTRAINTS.verifiedDomain]: () => conflict(`Domain ${row.domain} is already verified by another organization`, { field: 'domain' }) });
      }
    },

    async deleteDomain(access: RequestAccess, id: string) {
      await withAudit(db, access.audit, async (tx, note) => {
        const row = await createSsoRepo(tx).deleteDomain(access.scope.organization.id, id);
        if (!row) throw notFound('SSO domain');
        note({ event_type: 'DELETE', target_type: 'sso_domain', target_id: id, target_name: row.domain, change: `Removed SSO domain ${row.domain}` });
      });
    },

    async roleMappings(access: RequestAccess) {
      const organizationId = access.scope.organization.id;
      const claim = await repo.roleClaim(organizationId);
      return claim ? { claim: claim.claim, rules: await repo.roleRules(organizationId) } : undefined;
    },

    /** Replaces the mappings as a whole; roles are system role names or the organization's custom role names. */
    async putRoleMappings(access: RequestAccess, input: RoleMappingsInput) {
      const organizationId = access.scope.organization.id;
      const seen = new Set<string>();
      input.mappings.forEach((mapping, index) => {
        if (seen.has(mapping.value)) throw invalid(`body.mappings[${index}].value`, `maps "${mapping.value}" a second time; give each value one role`);
        seen.add(mapping.value);
      });
      return withAudit(db, access.audit, async (tx, note) => {
        const r = createSsoRepo(tx);
        const resolve = async (role: string, field: string) => {
          if (role === 'OWNER') throw invalid(field, 'OWNER is never given by SSO: ownership moves only by transfer');
          if (isSystemRole(role)) return { role, role_id: null, role_name: null };
          const custom = await r.customRoleByName(organizationId, role);
          if (!custom) throw invalid(field, `"${role}" is neither a system role nor a custom role of this organization`);
          return { role: 'CUSTOM', role_id: custom.id, role_name: custom.name };
        };
        const rules: RoleRule[] = [];
        for (const [index, mapping] of input.mappings.entries()) rules.push({ value: mapping.value, ...(await resolve(mapping.role, `body.mappings[${index}].role`)) });
        if (input.default_role !== undefined && input.default_role !== null) rules.push({ value: null, ...(await resolve(input.default_role, 'body.default_role')) });
        const before = await r.roleRules(organizationId);
        await r.replaceRoleMappings(organizationId, input.claim, rules.map(({ role_name: _, ...rule }) => ({ id: randomUUID(), ...rule })));
        const describe = (list: typeof rules) => list.map((rule) => `${rule.value ?? '(default)'} → ${roleLabel(rule)}`);
        note({
          event_type: 'UPDATE',
          target_type: 'sso_role_mappings',
          target_id: organizationId,
          target_name: input.claim,
          change: `Set SSO role mappings from claim "${input.claim}"`,
          details: { before: describe(before), after: describe(rules) },
        });
        return { claim: input.claim, rules: await r.roleRules(organizationId) };
      });
    },

    async deleteRoleMappings(access: RequestAccess) {
      await withAudit(db, access.audit, async (tx, note) => {
        const removed = await createSsoRepo(tx).deleteRoleMappings(access.scope.organization.id);
        if (!removed.numDeletedRows) throw notFound('SSO role mappings');
        note({ event_type: 'DELETE', target_type: 'sso_role_mappings', target_id: access.scope.organization.id, change: 'Removed SSO role mappings: roles no longer follow the identity provider' });
      });
    },
  };
}

export type SsoSettingsService = ReturnType<typeof createSsoSettingsService>;
