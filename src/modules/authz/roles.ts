/** System roles (SPEC §2.2): present in every organization, immutable. */
export const SYSTEM_ROLES = [
  'OWNER',
  'ADMIN',
  'DEVOPS',
  'BILLING_MANAGER',
  'VIEWER',
  'AUDITOR',
  'DEVELOPER',
  'MEMBER',
  'API_USER',
] as const;

export type SystemRole = (typeof SYSTEM_ROLES)[number];

/** Roles that can be given by invitation or role change: ownership moves only by transfer. */
export const ASSIGNABLE_ROLES = SYSTEM_ROLES.filter((role) => role !== 'OWNER');
