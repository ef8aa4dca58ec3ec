import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import type { AttemptLimit } from '../accounts/rate-limit.js';
import type { MembershipChanged } from '../authz/membership-cache.js';
import { memberRoutes } from './routes.js';
import { createMembersService } from './service.js';

/** Memberships and invitations; accounts ask whether an email has a pending invitation (closed sign-up). */
export function register(app: App, deps: { db: Kysely<Database>; acceptLimit: AttemptLimit; membershipChanged: MembershipChanged }) {
  const members = createMembersService(deps);
  memberRoutes(app, members, deps.acceptLimit);
  return { hasPendingInvitation: members.hasPendingInvitation };
}
