import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { Database } from '../../kernel/db/schema.js';
import type { App } from '../../kernel/http/app-types.js';
import { scopeOf } from '../../kernel/http/context.js';
import { EnvironmentParams, ProjectParams, ServiceParams, errorResponses } from '../../kernel/http/schemas.js';

const CascadeView = Type.Object({
  environments: Type.Integer({ description: 'Environments deleted with it' }),
  services: Type.Integer({ description: 'Services deleted with it' }),
  variables: Type.Integer({ description: 'Live variables deleted with it (member-assigned ones included), their history with them' }),
});

const tags = ['hierarchy'];
const description = 'What deleting it removes, counted, so a person can be told before they confirm. Asked with the permission that deletes it.';

/**
 * What deleting a project, an environment or a service takes with it (the database's cascade),
 * counted: the console states it before the delete is confirmed.
 */
export function register(app: App, deps: { db: Kysely<Database> }) {
  const { db } = deps;
  const count = async (query: Promise<{ n: string | number | bigint }>) => Number((await query).n);
  const variablesWhere = (column: 'project_id' | 'environment_id' | 'service_id', id: string) =>
    count(db.selectFrom('variables').select((eb) => eb.fn.countAll().as('n')).where(column, '=', id).where('deleted_at', 'is', null).executeTakeFirstOrThrow());

  app.get('/orgs/:org/projects/:project/cascade', {
    config: { access: { action: 'project:write', resource: 'project' } },
    schema: { tags, summary: 'What deleting a project removes', description, params: ProjectParams, response: { 200: CascadeView, ...errorResponses } },
    handler: async (request) => {
      const { project } = scopeOf(request, 'project');
      const [environments, services, variables] = await Promise.all([
        count(db.selectFrom('environments').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', project.id).executeTakeFirstOrThrow()),
        count(db.selectFrom('services').innerJoin('environments', 'environments.id', 'services.environment_id').select((eb) => eb.fn.countAll().as('n')).where('environments.project_id', '=', project.id).executeTakeFirstOrThrow()),
        variablesWhere('project_id', project.id),
      ]);
      return { environments, services, variables };
    },
  });

  app.get('/orgs/:org/projects/:project/environments/:env/cascade', {
    config: { access: { action: 'environment:delete', resource: 'environment' } },
    schema: { tags, summary: 'What deleting an environment removes', description, params: EnvironmentParams, response: { 200: CascadeView, ...errorResponses } },
    handler: async (request) => {
      const { environment } = scopeOf(request, 'environment');
      const [services, variables] = await Promise.all([
        count(db.selectFrom('services').select((eb) => eb.fn.countAll().as('n')).where('environment_id', '=', environment.id).executeTakeFirstOrThrow()),
        variablesWhere('environment_id', environment.id),
      ]);
      return { environments: 1, services, variables };
    },
  });

  app.get('/orgs/:org/projects/:project/environments/:env/services/:service/cascade', {
    config: { access: { action: 'service:delete', resource: 'service' } },
    schema: { tags, summary: 'What deleting a service removes', description, params: ServiceParams, response: { 200: CascadeView, ...errorResponses } },
    handler: async (request) => ({ environments: 0, services: 1, variables: await variablesWhere('service_id', scopeOf(request, 'service').service.id) }),
  });
}
