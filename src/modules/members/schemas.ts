import { Type } from 'typebox';
import { Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import { ASSIGNABLE_ROLES, SYSTEM_ROLES } from '../authz/system-roles.js';

export const MemberView = Type.Object({
  user_id: Uuid,
  email: Type.String(),
  name: Type.String(),
  role: Type.String({ description: "A system role, or CUSTOM with role_id and role_name naming the custom role" }),
  role_id: Type.Union([Uuid, Type.Null()]),
  role_name: Type.Union([Type.String(), Type.Null()]),
  joined_at: Timestamp,
});

export const MemberParams = Type.Object({ org: Slug, user_id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ChangeRoleBody = Type.Object(
  {
    // OWNER is listed so that asking for it is a 409 (one OWNER; transfer instead), not a 400.
    role: Type.Optional(Type.Enum(SYSTEM_ROLES, { description: 'A system role' })),
    role_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A custom role id' })),
  },
  { additionalProperties: false },
);

export const RoleAssignment = Type.Object({
  user_id: Uuid,
  role: Type.String(),
  role_id: Type.Union([Uuid, Type.Null()]),
  role_name: Type.Union([Type.String(), Type.Null()]),
});

export const TransferBody = Type.Object({ user_id: Uuid }, { additionalProperties: false });

export const InviteBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    role: Type.Enum(ASSIGNABLE_ROLES, { description: 'A system role; ownership moves only by transfer' }),
  },
  { additionalProperties: false },
);

export const InvitationView = Type.Object({
  id: Uuid,
  email: Type.String(),
  role: Type.String(),
  expires_at: Timestamp,
  created_at: Timestamp,
});

export const CreatedInvitation = Type.Object({
  ...InvitationView.properties,
  token: Type.String({ description: 'One-time token for POST /invitations/{token}/accept; shown once' }),
});

export const InvitationParams = Type.Object({ org: Slug, invitation_id: Uuid });
export const AcceptParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });

export const AcceptedInvitation = Type.Object({
  organization: Type.Object({ id: Uuid, slug: Slug, name: Type.String() }),
  role: Type.String(),
});

export function toInvitationView(invitation: { id: string; email: string; role: string; expires_at: Date; created_at: Date }) {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    expires_at: invitation.expires_at.toISOString(),
    created_at: invitation.created_at.toISOString(),
  };
}
