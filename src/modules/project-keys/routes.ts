import type { App } from '../../kernel/http/app-types.js';
import { accessOf, scopeOf } from '../../kernel/http/context.js';
import { errorResponses, ProjectParams } from '../../kernel/http/schemas.js';
import { ChangePassphraseBody, ConversionValuesView, ConvertBody, ConvertView, KeyValuesView, ProjectKeyView, RotateKeyBody, RotateKeyView } from './schemas.js';
import type { ConversionService } from './conversion.js';
import type { ProjectKeysService } from './service.js';

const tags = ['projects'];

export function projectKeyRoutes(app: App, service: ProjectKeysService, conversion: ConversionService) {
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

  // Conversion (issue #13): project:write here; the service also needs secret:decrypt (from server) or key:retrieve (from client) on every environment type.
  app.get('/orgs/:org/projects/:project/encryption/values', {
    config: { access: { action: 'project:write', resource: 'project' } },
    schema: {
      tags,
      summary: 'Every live value of a project, for a conversion of its encryption',
      description: 'In clear for a server-managed project (needs secret:decrypt on every environment type), client ciphertext for a client-managed one (needs key:retrieve likewise). Recorded as READ_SECRET.',
      params: ProjectParams,
      response: { 200: ConversionValuesView, ...errorResponses },
    },
    handler: async (request) => conversion.values(accessOf(request), scopeOf(request, 'project').project),
  });

  app.post('/orgs/:org/projects/:project/encryption', {
    config: { access: { action: 'project:write', resource: 'project' } },
    schema: {
      tags,
      summary: 'Convert a project between server- and client-managed keys, in one audited transaction',
      description:
        'values must hold every live variable of the project at its next version: to client, encrypted under the new key (sent wrapped in key); to server, in clear. ' +
        'Older versions and deleted variables are purged, never re-encrypted; a value that changed since it was read refuses the whole request with 409.',
      params: ProjectParams,
      body: ConvertBody,
      response: { 200: ConvertView, ...errorResponses },
    },
    handler: async (request) => conversion.convert(accessOf(request), scopeOf(request, 'project').project, request.body),
  });
}
