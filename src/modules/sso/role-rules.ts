/** A claim value (null: the default) and the role it gives; `role_name` names a custom role. */
export interface RoleRule {
  value: string | null;
  role: string;
  role_id: string | null;
  role_name: string | null;
}

/**
 * System roles from the most to the least able, for "highest role wins". A custom role ranks
 * just above MEMBER (below every broader system role: it is a narrowed grant), and custom roles
 * among themselves by name, so the outcome never depends on the order rules were written in.
 */
const SYSTEM_RANK = ['ADMIN', 'DEVOPS', 'DEVELOPER', 'AUDITOR', 'VIEWER', 'BILLING_MANAGER', 'MEMBER', 'API_USER'];
const CUSTOM_RANK = SYSTEM_RANK.indexOf('MEMBER') - 0.5;

const rank = (rule: RoleRule) => (rule.role === 'CUSTOM' ? CUSTOM_RANK : SYSTEM_RANK.indexOf(rule.role));

/** The values a claim carries: a list of strings (groups) or one string; anything else is none. */
export function claimValues(claim: unknown): string[] {
  if (typeof claim === 'string') return [claim];
  if (Array.isArray(claim)) return claim.filter((value): value is string => typeof value === 'string');
  return [];
}

/**
 * The role a person with these claim values gets: the highest among the rules their values
 * match, else the default rule, else none (the person belongs to no mapped group).
 */
export function roleFor(rules: readonly RoleRule[], values: readonly string[]): RoleRule | undefined {
  const matched = rules.filter((rule) => rule.value !== null && values.includes(rule.value));
  const candidates = matched.length > 0 ? matched : rules.filter((rule) => rule.value === null);
  return [...candidates].sort((a, b) => rank(a) - rank(b) || (a.role_name ?? '').localeCompare(b.role_name ?? ''))[0];
}

export const roleLabel = (rule: Pick<RoleRule, 'role' | 'role_name'>) => (rule.role === 'CUSTOM' ? `custom role ${rule.role_name}` : rule.role);
