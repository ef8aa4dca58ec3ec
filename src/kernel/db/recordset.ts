import { sql, type RawBuilder } from 'kysely';

/** A column of a recordset: its name and PostgreSQL type (bytea travels as hex text). */
export type RecordColumn = readonly [name: string, type: string];

function encoded(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'bytea') return (value as Buffer).toString('hex');
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * Many rows as ONE json parameter, read back by json_to_recordset: `insert … select` of
 * thousands of rows is then a constant statement with one parameter, instead of a value list
 * of one parameter per cell that the query builder, the driver and the parser each walk (and
 * that PostgreSQL caps at 65,535 a statement). Columns left out take their defaults.
 */
export function recordset<Row = unknown>(columns: readonly RecordColumn[], rows: readonly object[]): RawBuilder<Row> {
  const json = JSON.stringify(
    rows.map((row) => {
      const fields: Record<string, unknown> = {};
      for (const [name, type] of columns) fields[name] = encoded((row as Record<string, unknown>)[name], type);
      return fields;
    }),
  );
  const definitions = columns.map(([name, type]) => `${name} ${type === 'bytea' ? 'text' : type}`).join(', ');
  // Each column keeps its name, so the set can also be joined by name (`update … from`).
  const selected = columns.map(([name, type]) => (type === 'bytea' ? `decode(r.${name}, 'hex') as ${name}` : `r.${name}`)).join(', ');
  return sql<Row>`select ${sql.raw(selected)} from json_to_recordset(${json}::json) as r(${sql.raw(definitions)})`;
}

/** The column names of `columns`, for `insertInto(…).columns(…)`. */
export const columnNames = <T extends string>(columns: readonly RecordColumn[]) => columns.map(([name]) => name) as T[];
