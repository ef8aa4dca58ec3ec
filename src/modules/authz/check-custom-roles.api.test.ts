import { describe, expect, it } from 'vitest';
import { f, answer } from '../../../test/fixtures/check.js';

describe('asking about yourself, custom roles', () => {
  it("names the custom role and its level on the environment's type", async () => {
    expect(await answer(f.engineer, { action: 'deployment:trigger', resource: 'shop/development' })).toEqual({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': DEPLOYER on DEVELOPMENT in project shop",
      user_id: f.engineer.id,
    });
    expect(await answer(f.engineer, { action: 'secret:read', resource: 'shop/production/backend' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': VIEWER on PRODUCTION in project shop",
    });
  });

  it('says the custom role has no grant on environments of a type its level does not cover', async () => {
    expect(await answer(f.engineer, { action: 'deployment:trigger', resource: 'shop/production' })).toMatchObject({
      allowed: false,
      reason: "no grant of deployment:trigger on PRODUCTION environments of project shop (custom role 'Platform Engineers')",
    });
  });

  it('names the level that makes the project visible', async () => {
    expect(await answer(f.engineer, { action: 'project:read', resource: 'shop' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': DEPLOYER on DEVELOPMENT in project shop",
    });
    expect(await answer(f.engineer, { action: 'project:write', resource: 'shop' })).toMatchObject({
      allowed: false,
      reason: "no grant of project:write on project shop (custom role 'Platform Engineers')",
    });
  });

  it('names the permission set granted on one environment', async () => {
    expect(await answer(f.engineer, { action: 'tunnel:create', resource: 'shop/staging' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': TUNNEL on environment staging of project shop",
    });
    expect(await answer(f.engineer, { action: 'secret:read', resource: 'shop/staging' })).toMatchObject({ allowed: false });
  });

  it('names the level granted on a cluster', async () => {
    expect(await answer(f.engineer, { action: 'cluster:deploy', resource: `cluster:${f.clusterId}` })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Platform Engineers': ENV_CREATOR on cluster main",
    });
    expect(await answer(f.engineer, { action: 'cluster:write', resource: `cluster:${f.clusterId}` })).toMatchObject({
      allowed: false,
      reason: "no grant of cluster:write on cluster main (custom role 'Platform Engineers')",
    });
  });

  it('names is_admin on the project', async () => {
    expect(await answer(f.shopAdmin, { action: 'project:write', resource: 'shop' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Shop Admins': is_admin on project shop",
    });
    expect(await answer(f.shopAdmin, { action: 'backup:restore', resource: 'shop/production' })).toMatchObject({
      allowed: true,
      reason: "granted by custom role 'Shop Admins': is_admin on project shop",
    });
  });

  it('grants every custom-role member organization:read and no other organization action', async () => {
    expect(await answer(f.engineer, { action: 'organization:read' })).toMatchObject({
      allowed: true,
      reason: "granted to every member of custom role 'Platform Engineers'",
    });
    expect(await answer(f.engineer, { action: 'token:manage' })).toMatchObject({
      allowed: false,
      reason: 'custom roles never grant organization-level actions such as token:manage',
    });
  });
});
