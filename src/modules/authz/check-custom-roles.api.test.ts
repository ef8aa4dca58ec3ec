import { describe, it } from 'vitest';
import { f, expectAnswers, type Expected } from '../../../test/fixtures/check.js';

const PLATFORM = "custom role 'Platform Engineers'";
const cluster = () => `cluster:${f.clusterId}`;

/** Each behaviour, and the questions (with their exact answers) that show it. */
const BEHAVIOURS: Record<string, () => Expected[]> = {
  "names the custom role and its level on the environment's type": () => [
    ['engineer', 'deployment:trigger', 'shop/development', true, `granted by ${PLATFORM}: DEPLOYER on DEVELOPMENT in project shop`],
    ['engineer', 'secret:read', 'shop/production/backend', true, `granted by ${PLATFORM}: VIEWER on PRODUCTION in project shop`],
  ],
  'says the custom role has no grant on environments of a type its level does not cover': () => [
    ['engineer', 'deployment:trigger', 'shop/production', false, `no grant of deployment:trigger on PRODUCTION environments of project shop (${PLATFORM})`],
  ],
  'names the level that makes the project visible': () => [
    ['engineer', 'project:read', 'shop', true, `granted by ${PLATFORM}: DEPLOYER on DEVELOPMENT in project shop`],
    ['engineer', 'project:write', 'shop', false, `no grant of project:write on project shop (${PLATFORM})`],
  ],
  'names the permission set granted on one environment': () => [
    ['engineer', 'tunnel:create', 'shop/staging', true, `granted by ${PLATFORM}: TUNNEL on environment staging of project shop`],
    ['engineer', 'secret:read', 'shop/staging', false],
  ],
  'names the level granted on a cluster': () => [
    ['engineer', 'cluster:deploy', cluster(), true, `granted by ${PLATFORM}: ENV_CREATOR on cluster main`],
    ['engineer', 'cluster:write', cluster(), false, `no grant of cluster:write on cluster main (${PLATFORM})`],
  ],
  'names is_admin on the project': () => [
    ['shopAdmin', 'project:write', 'shop', true, "granted by custom role 'Shop Admins': is_admin on project shop"],
    ['shopAdmin', 'backup:restore', 'shop/production', true, "granted by custom role 'Shop Admins': is_admin on project shop"],
  ],
  'grants every custom-role member organization:read and no other organization action': () => [
    ['engineer', 'organization:read', undefined, true, `granted to every member of ${PLATFORM}`],
    ['engineer', 'token:manage', undefined, false, 'custom roles never grant organization-level actions such as token:manage'],
  ],
};

describe('asking about yourself, custom roles', () => {
  it.each(Object.entries(BEHAVIOURS))('%s', async (_behaviour, rows) => {
    await expectAnswers(rows());
  });
});
