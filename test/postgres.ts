import { sql } from 'kysely';
import { openPostgres } from '../src/kernel/db/connect.js';

/** The PostgreSQL the tests may create databases on; shared with others, so we only drop our own. */
export function adminUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs one statement (create/drop database cannot run in a transaction) on the admin database. */
export async function adminStatement(statement: string): Promise<void> {
  const admin = openPostgres(adminUrl(), { max: 1 });
  try {
    await sql.raw(statement).execute(admin.db);
  } finally {
    await admin.close();
  }
}
