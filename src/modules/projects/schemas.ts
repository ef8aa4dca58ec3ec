import { Type } from 'typebox';
import type { Project } from '../../kernel/db/schema.js';
import { Name, Slug, Timestamp, Uuid } from '../../kernel/http/schemas.js';

const Description = Type.String({ maxLength: 2000 });


export const CreateProjectBody = Type.Object(
  { slug: Slug, name: Type.Optional(Name), description: Type.Optional(Description) },
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
  created_at: Timestamp,
  updated_at: Timestamp,
});

export function toProjectView(project: Project) {
  return {
    id: project.id,
    slug: project.slug,
    name: project.name,
    description: project.description,
    created_at: project.created_at.toISOString(),
    updated_at: project.updated_at.toISOString(),
  };
}
