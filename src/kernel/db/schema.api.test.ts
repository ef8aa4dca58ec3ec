import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/harness.js';

/** Table → column → whether a selected value may be null. */
type Shape = Record<string, Record<string, boolean>>;

const SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'schema.ts');

/**
 * What schema.ts declares, read through the type checker rather than by pattern, so aliases
 * (`CreatedAt`, `Json<T>`) and Kysely's wrappers (`ColumnType<S, I, U>`, `Generated<T>`)
 * count as the select type they stand for.
 */
function declaredShape(): Shape {
  const program = ts.createProgram([SCHEMA_FILE], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(SCHEMA_FILE)!;
  const database = source.statements.find((node): node is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(node) && node.name.text === 'Database');
  if (!database) throw new Error('schema.ts declares no Database interface');
  const shape: Shape = {};
  for (const table of checker.getTypeAtLocation(database).getProperties()) {
    const columns: Record<string, boolean> = {};
    for (const column of checker.getTypeOfSymbolAtLocation(table, database).getProperties()) {
      const declared = checker.getTypeOfSymbolAtLocation(column, database);
      // ColumnType and Generated carry the select type in `__select__`; a plain type is its own.
      const selectSymbol = declared.getProperty('__select__');
      const selected = selectSymbol ? checker.getTypeOfSymbolAtLocation(selectSymbol, database) : declared;
      const members = selected.isUnion() ? selected.types : [selected];
      columns[column.name] = members.some((member) => (member.flags & ts.TypeFlags.Null) !== 0);
    }
    shape[table.name] = columns;
  }
  return shape;
}

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

async function migratedShape(): Promise<Shape> {
  const { rows } = await sql<{ table_name: string; column_name: string; is_nullable: 'YES' | 'NO' }>`
    select c.table_name, c.column_name, c.is_nullable
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.table_name not like 'kysely\\_%'
  `.execute(database.db);
  const shape: Shape = {};
  for (const row of rows) (shape[row.table_name] ??= {})[row.column_name] = row.is_nullable === 'YES';
  return shape;
}

describe(`schema.ts (${process.env.COFFER_TEST_BACKEND})`, () => {
  it('declares exactly the tables and columns the migrations create, each nullable where the column is', async () => {
    const declared = declaredShape();
    // Sanity: the reader found the tables, so an empty comparison cannot pass by accident.
    expect(Object.keys(declared).length).toBeGreaterThan(20);
    expect(declared.users).toMatchObject({ id: false, email: false });
    expect(declared.sessions).toMatchObject({ ip: true });
    expect(await migratedShape()).toEqual(declared);
  });
});
