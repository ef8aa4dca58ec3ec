import { Type } from 'typebox';
import { ENVIRONMENT_TYPES, type Environment } from '../../kernel/db/schema.js';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';

export const EnvironmentType = Type.Enum(ENVIRONMENT_TYPES);


export const CreateEnvironmentBody = Type.Object(
  { slug: Slug, name: Type.Optional(Name), type: EnvironmentType, cluster_id: Type.Optional(Type.Union([Uuid, Type.Null()])) },
  { additionalProperties: false },
);

export const UpdateEnvironmentBody = Type.Object(
  {
    slug: Type.Optional(Slug),
    name: Type.Optional(Name),
    type: Type.Optional(EnvironmentType),
    cluster_id: Type.Optional(Type.Union([Uuid, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const EnvironmentView = Type.Object({
  id: Uuid,
  slug: Slug,
  name: Type.String(),
  type: EnvironmentType,
  cluster_id: Type.Union([Uuid, Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export function toEnvironmentView(environment: Environment) {
  return {
    id: environment.id,
    slug: environment.slug,
    name: environment.name,
    type: environment.type,
    cluster_id: environment.cluster_id,
    created_at: environment.created_at.toISOString(),
    updated_at: environment.updated_at.toISOString(),
  };
}
