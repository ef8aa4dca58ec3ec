import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { storedRootKeyCheck } from '../crypto/root-key-check.js';
import { createPGlite, usePGlite } from './connect.js';
import { lockDataDir } from './data-dir-lock.js';
import { PGDATA } from './embedded-files.js';

/**
 * Backups of the embedded database. A running server holds the data directory's lock, so
 * `coffer admin backup` asks it for the copy through a control socket in that directory: only
 * whoever may read the data directory may connect (the socket is 0600, like root.key), which
 * is the privilege a copy of pgdata needs anyway, so no API token is involved. With no
 * server running, the command opens the directory itself.
 */

/** Where a running server listens for `coffer admin backup`. */
export function controlSocketPath(dataDir: string): string {
  if (process.platform === 'win32') {
    return `\\\\.\\pipe\\coffer-${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}`;
  }
  return path.join(dataDir, 'coffer.sock');
}

/** Unix socket paths longer than this do not bind (sun_path is 104–108 bytes). */
const MAX_SOCKET_PATH = 100;

/**
 * Serves `POST /backup` (a gzipped tar of pgdata, see DatabaseHandle.dump) on the control
 * socket until closed. Returns undefined, after saying why, when the path is too long.
 */
export async function serveBackups(
  dataDir: string,
  dump: () => Promise<Blob>,
  warn: (message: string) => void,
): Promise<{ close(): Promise<void> } | undefined> {
  const socket = controlSocketPath(dataDir);
  if (process.platform !== 'win32') {
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
      warn(`online backups are off: the control socket path ${socket} is too long for a Unix socket; use a shorter COFFER_DATA_DIR`);
      return undefined;
    }
    // Left by a server that died: we hold the directory's lock, so it is nobody's.
    fs.rmSync(socket, { force: true });
  }
  const server = http.createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/backup') {
      response.writeHead(404).end();
      return;
    }
    dump()
      .then(async (blob) => {
        const bytes = Buffer.from(await blob.arrayBuffer());
        response.writeHead(200, { 'content-type': 'application/gzip', 'content-length': bytes.length }).end(bytes);
      })
      .catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket is bound inside listen(): created 0600 from the start, not chmod-ed after a window.
    const umask = process.platform === 'win32' ? undefined : process.umask(0o177);
    try {
      server.listen(socket, () => resolve());
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
  });
  if (process.platform !== 'win32') fs.chmodSync(socket, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A backup from the server running on `dataDir`, or undefined when none answers there. */
export function backupThroughServer(dataDir: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath: controlSocketPath(dataDir), method: 'POST', path: '/backup', agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        if (response.statusCode === 200) resolve(body);
        else reject(new Error(`The running server could not make the backup: ${body.toString('utf8') || response.statusCode}`));
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      // No socket, or one left by a server that is gone: nobody is serving this directory.
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(undefined);
      else reject(error);
    });
    request.end();
  });
}

/** Writes the backup so that `file` is either complete or untouched (0600: it is the whole database). */
export function writeBackupFile(file: string, bytes: Buffer): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'wx', 0o600);
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
}

/**
 * Loads a backup into `dataDir`, whose pgdata must be missing or empty (never over data).
 * Returns the restored root key check, for the caller to tell whether a key opens it.
 */
export async function restoreEmbedded(dataDir: string, bytes: Buffer): Promise<{ check: Buffer }> {
  const lock = lockDataDir(dataDir);
  const pgdata = path.join(dataDir, PGDATA);
  try {
    if (fs.existsSync(pgdata) && (!fs.statSync(pgdata).isDirectory() || fs.readdirSync(pgdata).length > 0)) {
      throw new Error(
        `A backup is restored only into an empty data directory, and ${pgdata} is not empty: move it away first ` +
          '(and keep it until the restored server works)',
      );
    }
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    let check: Buffer | undefined;
    try {
      const handle = await usePGlite(await createPGlite({ dataDir: pgdata, loadDataDir: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: gzip ? 'application/gzip' : 'application/x-tar' }) }));
      try {
        check = await storedRootKeyCheck(handle.db).catch(() => undefined);
      } finally {
        await handle.close();
      }
    } catch (error) {
      fs.rmSync(pgdata, { recursive: true, force: true });
      throw new Error(`This file is not a backup of Coffer's embedded database (${error instanceof Error ? error.message : String(error)})`, { cause: error });
    }
    if (!check) {
      fs.rmSync(pgdata, { recursive: true, force: true });
      throw new Error("This file is a database without Coffer's root key check, not a backup of Coffer's embedded database");
    }
    lock.recordData();
    return { check };
  } finally {
    lock.release();
  }
}
