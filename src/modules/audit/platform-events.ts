import { AppError } from '../../kernel/errors.js';
import type { Action } from '../../kernel/authz/catalogue.js';

/**
 * The events a platform may record through `POST …/audit-events` (SPEC §2.1, §6): what it
 * did on things Coffer does not run itself, one per platform action of the catalogue. Every
 * other type (CREATE, UPDATE, DELETE, READ_SECRET, LOGIN, ACCESS_DENIED, PURGE…) Coffer writes
 * itself, and an ingested one would be a forgery that reads exactly like the real thing.
 */
export const PLATFORM_EVENTS = {
  TRIGGER_DEPLOYMENT: 'deployment:trigger',
  SHELL_SESSION: 'shell:connect',
  SCALE_SERVICE: 'service:scale',
  RESTART_SERVICE: 'service:restart',
  STREAM_LOGS: 'log:stream',
  SCAN_IMAGE: 'image:scan',
  CREATE_ENDPOINT: 'endpoint:create',
  DELETE_ENDPOINT: 'endpoint:delete',
  CREATE_BACKUP: 'backup:create',
  RESTORE_BACKUP: 'backup:restore',
  DELETE_BACKUP: 'backup:delete',
  UPDATE_BACKUP_POLICY: 'backup_policy:manage',
  CREATE_REPLICA: 'replica:create',
  DELETE_REPLICA: 'replica:delete',
  OPEN_TUNNEL: 'tunnel:create',
  CREATE_DRAIN: 'drain:create',
  DELETE_DRAIN: 'drain:delete',
  CREATE_CERTIFICATE: 'certificate:create',
  DELETE_CERTIFICATE: 'certificate:delete',
} as const satisfies Record<string, Action>;

export const PLATFORM_EVENT_TYPES = Object.keys(PLATFORM_EVENTS) as (keyof typeof PLATFORM_EVENTS)[];

/** Refuses, with a 400 naming body.event_type and listing the allowed types, anything but a platform event. */
export function requirePlatformEvent(eventType: string): void {
  if (Object.hasOwn(PLATFORM_EVENTS, eventType)) return;
  const reason = `${eventType} is not a platform event: Coffer records its own events itself; a platform may record ${PLATFORM_EVENT_TYPES.join(', ')}`;
  throw new AppError('VALIDATION_FAILED', `body.event_type: ${reason}`, { field: 'body.event_type', reason, allowed: PLATFORM_EVENT_TYPES });
}
