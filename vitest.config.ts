import pg from 'pg';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * The suite runs on embedded PGlite always, and the integration tests (`*.api.test.ts`)
 * run again on PostgreSQL when it is reachable; with CI=true PostgreSQL is required.
 */
const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export default defineConfig(async () => {
  const projects: TestProjectInlineConfiguration[] = [
    {
      extends: true,
      test: {
        name: 'pglite',
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        env: { COFFER_TEST_BACKEND: 'pglite' },
      },
    },
    {
      // The web console: serving it, its generated API types, and Chromium driving it (web/test/).
      extends: true,
      test: {
        name: 'web',
        include: ['web/test/**/*.test.ts'],
        env: { COFFER_TEST_BACKEND: 'pglite' },
      },
    },
  ];
  if (await reachable(postgresUrl)) {
    projects.push({
      extends: true,
      test: {
        name: 'postgres',
        include: ['src/**/*.api.test.ts', 'test/**/*.api.test.ts'],
        env: { COFFER_TEST_BACKEND: 'postgres', TEST_DATABASE_URL: postgresUrl },
      },
    });
  } else if (process.env.CI === 'true') {
    throw new Error(`CI=true: PostgreSQL must be reachable at ${postgresUrl} (set TEST_DATABASE_URL)`);
  } else {
    console.warn(`PostgreSQL is not reachable at ${postgresUrl}: running the suite on PGlite only`);
  }

  return {
    test: {
      projects,
      globalSetup: ['test/global-setup.ts'],
      pool: 'forks',
      testTimeout: 30_000,
      hookTimeout: 120_000,
    },
  };
});
