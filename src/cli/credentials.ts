import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `coffer login` keeps: the server and a session (or API) token for it. */
export interface StoredCredentials {
  url: string;
  token: string;
  email?: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** `$COFFER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/coffer`, else `~/.config/coffer`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.COFFER_CONFIG_DIR) return env.COFFER_CONFIG_DIR;
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'coffer');
}

const file = (env?: NodeJS.ProcessEnv) => path.join(configDir(env), 'credentials.json');

export function readCredentials(env?: NodeJS.ProcessEnv): StoredCredentials | undefined {
  try {
    return JSON.parse(fs.readFileSync(file(env), 'utf8')) as StoredCredentials;
  } catch {
    return undefined;
  }
}

/** Written 0600 in a 0700 directory, replaced atomically: the token is a credential. */
export function writeCredentials(credentials: StoredCredentials, env?: NodeJS.ProcessEnv): string {
  const target = file(env);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const temporary = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, target);
  return target;
}

export function removeCredentials(env?: NodeJS.ProcessEnv): boolean {
  try {
    fs.unlinkSync(file(env));
    return true;
  } catch {
    return false;
  }
}
