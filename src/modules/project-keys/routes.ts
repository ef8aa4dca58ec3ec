import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf } from '../../kernel/http/context.js';
import { errorResponses, ProjectParams } from '../../kernel/http/schemas.js';
import { ChangePassphraseBody, KeyValuesView, ProjectKeyView, RotateKeyBody, RotateKeyView } from './schemas.js';
import type { ProjectKeysService } from './service.js';

const tags = ['projects'];

export function projectKeyRoutes(app: App, service: ProjectKeysService) {
  app.get('/orgs/:org/projects/:project/key', {
    // SPEC §2.1 (seed 003): key:retrieve hands out the key material, wrapped; on a project it means "on some environment of it".
    config: { access: { action: 'key:retrieve', resource: 'project' } },
    schema: {
      tags,
      summary: 'The wrapped key of a client-managed project, with its salt and Argon2id parameters',
      description: 'Useless without the passphrase, which the server never receives. A server-managed project answers 409.',
      params: ProjectParams,
      response: { 200: ProjectKeyView, ...errorResponses },
    },
    handler: async (request) => service.get(accessOf(request), scopeOf(request, 'project').project),
  });

  app.put('/orgs/:org/projects/:project/key', {
    config: { access: { action: 'project:write', resource: 'project' } },
    schema: {
      tags,
      summary: 'Change the passphrase of a client-managed project: the same key, wrapped anew',
      description: 'current_wrapped_key must be the stored one (409 otherwise); key_version does not change.',
      params: ProjectParams,
      body: ChangePassphraseBody,
      response: { 200: ProjectKeyView, ...errorResponses },
    },
    handler: async (request) => service.changePassphrase(accessOf(request), scopeOf(request, 'project').project, request.body),
  });

  app.get('/orgs/:org/projects/:project/key/values', {
    config: { access: { action: 'project:write', resource: 'project' } },
    schema: {
      tags,
      summary: 'Every live value of a client-managed project as ciphertext, secrets included, for a key rotation',
      params: ProjectParams,
      response: { 200: KeyValuesView, ...errorResponses },
    },
    handler: async (request) => service.listValues(accessOf(request), scopeOf(request, 'project').project),
  });

  app.post('/orgs/:org/projects/:project/key/rotate', {
    config: { access: { action: 'project:write', resource: 'project' } },
    schema: {
      tags,
      summary: 'Replace the key of a client-managed project, re-encrypting every live value, atomically',
      description: 'values must hold every live variable of the project, each at its next version, encrypted under the new key; anything else refuses the whole request.',
      params: ProjectParams,
      body: RotateKeyBody,
      response: { 200: RotateKeyView, ...errorResponses },
    },
    handler: async (request) => service.rotate(accessOf(request), scopeOf(request, 'project').project, request.body),
  });
}
