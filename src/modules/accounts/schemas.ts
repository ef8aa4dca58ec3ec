import { Type } from 'typebox';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';
import { MIN_PASSWORD_LENGTH } from './passwords.js';

const Email = Type.String({ format: 'email', maxLength: 254 });

export const SignupBody = Type.Object(
  {
    email: Email,
    password: Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 }),
    name: Name,
  },
  { additionalProperties: false },
);

export const LoginBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const UserView = Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), created_at: Timestamp });

export const LoginResponse = Type.Object({
  token: Type.String({ description: 'Session token: send as Authorization: Bearer <token>. Shown once.' }),
  csrf_token: Type.String({ description: 'Send as X-CSRF-Token on state-changing requests authenticated by the cookie' }),
  expires_at: Timestamp,
  user: UserView,
});

export const MeResponse = Type.Object({
  user: UserView,
  organizations: Type.Array(Type.Object({ id: Uuid, slug: Slug, name: Type.String(), role: Type.String() })),
});

export const SessionView = Type.Object({
  id: Uuid,
  created_at: Timestamp,
  last_seen_at: Timestamp,
  expires_at: Timestamp,
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});

export const SessionParams = Type.Object({ session_id: Uuid });

export function toUserView(user: { id: string; email: string; name: string; created_at: Date }) {
  return { id: user.id, email: user.email, name: user.name, created_at: user.created_at.toISOString() };
}
