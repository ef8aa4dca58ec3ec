import fs from 'node:fs';
/** Human output: aligned columns; `--json` output is the API's own JSON. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)\n';
  const cell = (value: unknown) => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value)).replace(/\n/g, '⏎');
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((row) => line(columns.map((c) => cell(row[c]))))].join('\n') + '\n';
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A progress line on stderr (only on a terminal), so stdout stays clean for pipes. */
export function progress(label: string, total: number) {
  const tty = process.stderr.isTTY;
  let done = 0;
  const draw = () => {
    if (!tty) return;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  };
  draw();
  return {
    tick(count = 1) {
      done += count;
      draw();
    },
    finish() {
      if (tty) process.stderr.write('\n');
    },
  };
}

/**
 * Opens FILE for writing with mode 0600 whether or not it existed: `mode` on open applies
 * only to new files, and an exported .env must not stay world-readable.
 */
export function openPrivateFile(file: string): number {
  const fd = fs.openSync(file, 'w', 0o600);
  fs.fchmodSync(fd, 0o600);
  return fd;
}

export function writePrivateFile(file: string, text: string): void {
  const fd = openPrivateFile(file);
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}
