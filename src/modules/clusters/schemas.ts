import { Type } from 'typebox';
import type { Cluster } from '../../kernel/db/schema.js';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';

const Region = Type.String({ minLength: 1, maxLength: 100 });

export const ClusterParams = Type.Object({ org: Slug, cluster_id: Type.String({ maxLength: 64 }) });

export const CreateClusterBody = Type.Object({ name: Name, region: Type.Optional(Region) }, { additionalProperties: false });

export const UpdateClusterBody = Type.Object(
  { name: Type.Optional(Name), region: Type.Optional(Type.Union([Region, Type.Null()])) },
  { additionalProperties: false, minProperties: 1 },
);

export const ClusterView = Type.Object({
  id: Uuid,
  name: Type.String(),
  region: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export function toClusterView(cluster: Cluster) {
  return {
    id: cluster.id,
    name: cluster.name,
    region: cluster.region,
    created_at: cluster.created_at.toISOString(),
    updated_at: cluster.updated_at.toISOString(),
  };
}
