import { Type } from 'typebox';
import { PROJECT_ENCRYPTIONS, type Project } from '../../kernel/db/schema.js';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';

const Description = Type.String({ maxLength: 2000 });

const Encryption = Type.Enum(PROJECT_ENCRYPTIONS, { description: 'server (default): Coffer holds the keys; client: values are encrypted by the CLI under a passphrase the server never sees' });

/** Shapes only: kernel/crypto/client-envelope.ts checks sizes and Argon2id bounds, naming the field. */
export const WrappedKeyBody = Type.Object(
  {
    key_version: Type.Integer({ minimum: 1 }),
    wrapped_key: Type.String({ maxLength: 512, description: 'base64url of the AES-256-GCM-sealed 32-byte project key' }),
    salt: Type.String({ maxLength: 512, description: 'base64url, 16 to 64 bytes' }),
    kdf: Type.Object(
      {
        algorithm: Type.Literal('argon2id'),
        memory_kib: Type.Integer({ description: '19456 (OWASP minimum) to 1048576' }),
        iterations: Type.Integer({ description: '2 to 16' }),
        parallelism: Type.Integer({ description: '1 to 16' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const CreateProjectBody = Type.Object(
  {
    slug: Slug,
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    encryption: Type.Optional(Encryption),
    client_key: Type.Optional(WrappedKeyBody),
    id: Type.Optional(
      Type.String({
        format: 'uuid',
        description: 'encryption client only: the id the client chose for the project (a random UUID), so that the first wrap of its key is bound to the project too',
      }),
    ),
  },
  { additionalProperties: false },
);

export const UpdateProjectBody = Type.Object(
  { slug: Type.Optional(Slug), name: Type.Optional(Name), description: Type.Optional(Description) },
  { additionalProperties: false, minProperties: 1 },
);

export const ProjectView = Type.Object({
  id: Uuid,
  slug: Slug,
  name: Type.String(),
  description: Type.String(),
  encryption: Encryption,
  created_at: Timestamp,
  updated_at: Timestamp,
});

export function toProjectView(project: Project) {
  return {
    id: project.id,
    slug: project.slug,
    name: project.name,
    description: project.description,
    encryption: project.encryption,
    created_at: project.created_at.toISOString(),
    updated_at: project.updated_at.toISOString(),
  };
}
