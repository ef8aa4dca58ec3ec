import type { Kysely } from 'kysely';
import { open, seal } from '../../kernel/crypto/aead.js';
import type { Keyring } from '../../kernel/crypto/keyring.js';
import type { Database, Service } from '../../kernel/db/schema.js';
import { AppError } from '../../kernel/errors.js';
import { checkValue } from '../variables/rules.js';
import { createServicesRepo } from './repo.js';

/** Outputs open only for the service they were sealed for: a blob moved to another row fails. */
const aadOf = (serviceId: string) => `coffer service outputs v1\0${serviceId}`;

/** Each output value passes the variable value rule (no NUL, no lone surrogate, size); a 400 names it. */
export function checkOutputs(outputs: Record<string, string>, field = 'body.outputs'): Record<string, string> {
  for (const [name, value] of Object.entries(outputs)) checkValue(value, 'plain', `${field}.${name}`);
  return outputs;
}

/**
 * Service outputs (host, port, user, password…) sealed at rest like variable values (SPEC §4),
 * under the project's data key. Callers get services with `outputs` in clear through `open`.
 */
export function createServiceOutputs(keyring: Keyring) {
  /** The columns that store `outputs` for this service. */
  async function sealed(db: Kysely<Database>, place: { organizationId: string; projectId: string }, serviceId: string, outputs: Record<string, string>) {
    const dataKey = await keyring.forOwner(db, place.organizationId, place.projectId);
    return {
      outputs: JSON.stringify({}),
      outputs_sealed: seal(dataKey.key, JSON.stringify(outputs), aadOf(serviceId)),
      outputs_key_id: dataKey.id,
    };
  }

  return {
    /** Validates outputs like variable values (they become built-in variables), then seals them. */
    seal: (db: Kysely<Database>, place: { organizationId: string; projectId: string }, serviceId: string, outputs: Record<string, string>) =>
      sealed(db, place, serviceId, checkOutputs(outputs)),

    /** The services with their outputs in clear. */
    async open<T extends Service>(db: Kysely<Database>, services: T[]): Promise<T[]> {
      const keys = await keyring.byIds(db, services.flatMap((service) => (service.outputs_key_id ? [service.outputs_key_id] : [])));
      return services.map((service) => {
        if (service.outputs_sealed === null || service.outputs_key_id === null) return service; // written before sealing
        try {
          const outputs = JSON.parse(open(keys.get(service.outputs_key_id)!, service.outputs_sealed, aadOf(service.id)).toString('utf8')) as Record<string, string>;
          return { ...service, outputs };
        } catch {
          throw new AppError('DECRYPTION_FAILED', `The stored outputs of service ${service.slug} do not decrypt: they were altered or copied from another service`);
        }
      });
    },

    /** Seals what was stored in clear before outputs were sealed; returns how many services. */
    async sealLegacy(db: Kysely<Database>): Promise<number> {
      const legacy = await createServicesRepo(db).clearOutputs();
      for (const row of legacy) {
        await db.transaction().execute(async (tx) => {
          const columns = await sealed(tx, { organizationId: row.organization_id, projectId: row.project_id }, row.id, row.outputs);
          await createServicesRepo(tx).sealOutputs(row.id, columns);
        });
      }
      return legacy.length;
    },
  };
}

export type ServiceOutputs = ReturnType<typeof createServiceOutputs>;
