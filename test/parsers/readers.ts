import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The real parsers users feed Coffer's export formats to, each run once over a whole file
 * and answering key → value as it read them. A parser that is not installed reports why, so
 * the matrix skips it with a message (they are all present in CI: see .ci/run).
 */
export interface Reader {
  name: string;
  /** Why it cannot run here, or null. */
  missing: string | null;
  /** Reads `body` (written to a file when the parser needs one) and returns each key's value (undefined when unset). */
  read(body: string, keys: readonly string[]): Promise<Record<string, string | undefined>>;
}

/** Debian's python, with python3-yaml and python3-dotenv; not whatever python3 is first on PATH. */
const PYTHON = '/usr/bin/python3';
const MAX_BUFFER = 256 * 1024 * 1024;
const CLEAN_ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C.UTF-8' };

export function scratchDir(): { dir: string; file: (name: string, body: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-parsers-'));
  let count = 0;
  return {
    dir,
    file: (name, body) => {
      const path = join(dir, `${count++}-${name}`);
      writeFileSync(path, body);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const scratch = scratchDir();
export const removeScratch = scratch.remove;
/** Where shells run: a value that executed `touch pwned` would leave this file. */
export const PWNED = join(scratch.dir, 'pwned');

function run(command: string, args: string[], env: Record<string, string> = CLEAN_ENV) {
  // No stdin: bash reads ~/.bashrc when its stdin looks like a remote shell's socket.
  const result = spawnSync(command, args, { cwd: scratch.dir, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: MAX_BUFFER, timeout: 60_000 });
  if (result.error) throw result.error;
  if (result.status !== 0 || result.stderr !== '') throw new Error(`${command} failed (${result.status}): ${result.stderr.slice(0, 2000)}`);
  return result.stdout;
}

const python = (module: string) =>
  !existsSync(PYTHON) ? `${PYTHON} is not installed` : spawnSync(PYTHON, ['-c', `import ${module}`]).status === 0 ? null : `${PYTHON} has no ${module} module (Debian: python3-${module})`;

const pick = (parsed: Record<string, unknown>, keys: readonly string[]) =>
  Object.fromEntries(keys.map((key) => [key, parsed[key] as string | undefined]));

/** A POSIX shell sourcing the file with `set -a`, then printing each variable NUL-terminated. */
function shell(name: 'bash' | 'dash'): Reader {
  const path = `/bin/${name}`;
  return {
    name,
    missing: existsSync(path) ? null : `${path} is not installed`,
    async read(body, keys) {
      const file = scratch.file(`${name}.env`, body);
      const script = `set -a\n. "${file}"\nprintf '%s\\0' ${keys.map((key) => `"\${${key}}"`).join(' ')}\n`;
      const values = run(path, [...(name === 'bash' ? ['--norc', '--noprofile'] : []), '-c', script]).split('\0');
      return Object.fromEntries(keys.map((key, index) => [key, values[index]]));
    },
  };
}

export const bash = shell('bash');
export const dash = shell('dash');

export const pythonDotenv: Reader = {
  name: 'python-dotenv',
  missing: python('dotenv'),
  async read(body, keys) {
    const file = scratch.file('python.env', body);
    const code = 'import dotenv, json, sys; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))';
    return pick(JSON.parse(run(PYTHON, ['-c', code, file])) as Record<string, unknown>, keys);
  },
};

export const nodeEnvFile: Reader = {
  name: 'node --env-file',
  missing: null,
  async read(body, keys) {
    const file = scratch.file('node.env', body);
    const code = 'process.stdout.write(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((k) => [k, process.env[k]]))))';
    return pick(JSON.parse(run(process.execPath, [`--env-file=${file}`, '-e', code, ...keys])) as Record<string, unknown>, keys);
  },
};

/** PyYAML's safe loader, libyaml's (C) or the pure Python one: YAML 1.1. */
function pyyaml(loader: 'CSafeLoader' | 'SafeLoader'): Reader {
  const missing = python('yaml') ?? (spawnSync(PYTHON, ['-c', `import yaml; yaml.${loader}`]).status === 0 ? null : `PyYAML has no ${loader} (built without libyaml)`);
  return {
    name: `PyYAML ${loader}`,
    missing,
    async read(body, keys) {
      const file = scratch.file('python.yaml', body);
      // Every value must be a str: a bool or int read from "yes" or "0123" fails the comparison.
      const code = `import json, sys, yaml\nwith open(sys.argv[1], 'rb') as f: print(json.dumps(yaml.load(f, Loader=yaml.${loader})))`;
      return pick((JSON.parse(run(PYTHON, ['-c', code, file])) ?? {}) as Record<string, unknown>, keys);
    },
  };
}

export const pyyamlC = pyyaml('CSafeLoader');
export const pyyamlPure = pyyaml('SafeLoader');

interface JsYaml {
  load(text: string): unknown;
}
/** js-yaml 4 (YAML 1.2), installed with the linter; loaded lazily so its absence only skips it. */
function loadJsYaml(): JsYaml | null {
  try {
    return createRequire(import.meta.url)('js-yaml') as JsYaml;
  } catch {
    return null;
  }
}
const jsYamlModule = loadJsYaml();
export const jsYaml: Reader = {
  name: 'js-yaml',
  missing: jsYamlModule ? null : 'js-yaml is not installed',
  async read(body, keys) {
    return pick((jsYamlModule!.load(body) ?? {}) as Record<string, unknown>, keys);
  },
};

/**
 * libpq itself (the library psql links), through ctypes: for each service, the connection
 * options PQconndefaults() builds with PGSERVICE set to it, i.e. what libpq read from the file.
 */
const LIBPQ_SCRIPT = `
import ctypes, ctypes.util, json, os, sys
lib = ctypes.CDLL(ctypes.util.find_library('pq') or 'libpq.so.5')
class Option(ctypes.Structure):
    _fields_ = [(n, ctypes.c_char_p) for n in ('keyword', 'envvar', 'compiled', 'val', 'label', 'dispchar')] + [('dispsize', ctypes.c_int)]
lib.PQconndefaults.restype = ctypes.POINTER(Option)
lib.PQconninfoFree.argtypes = [ctypes.POINTER(Option)]
result = {}
for service in sys.argv[1:]:
    os.environ['PGSERVICE'] = service
    options = lib.PQconndefaults()
    if not options:
        result[service] = None
        continue
    read, i = {}, 0
    while options[i].keyword is not None:
        if options[i].val is not None:
            read[options[i].keyword.decode()] = options[i].val.decode('utf-8', 'surrogateescape')
        i += 1
    lib.PQconninfoFree(options)
    result[service] = read
print(json.dumps(result))
`;

export const libpq = {
  name: 'libpq',
  missing: !existsSync(PYTHON)
    ? `${PYTHON} is not installed`
    : spawnSync(PYTHON, ['-c', "import ctypes, ctypes.util; ctypes.CDLL(ctypes.util.find_library('pq') or 'libpq.so.5')"]).status === 0
      ? null
      : 'libpq is not installed (Debian: postgresql-client)',
  /** Each service's options as libpq read them from the file, or null when it refused the file. */
  read(body: string, services: readonly string[]): Record<string, Record<string, string> | null> {
    const file = scratch.file('pg_service.conf', body);
    return JSON.parse(run(PYTHON, ['-c', LIBPQ_SCRIPT, ...services], { ...CLEAN_ENV, PGSERVICEFILE: file })) as Record<string, Record<string, string> | null>;
  },
};

/**
 * The real `docker` CLI reading `--env-file`: `docker create` talks to a stand-in daemon on a
 * unix socket that records the Env list of the container it is asked to create.
 */
export const docker: Reader = {
  name: 'docker --env-file',
  missing: ['/usr/bin/docker', '/usr/local/bin/docker'].some(existsSync) ? null : 'the docker CLI is not installed',
  async read(body, keys) {
    const file = scratch.file('docker.env', body);
    const socket = join(scratch.dir, `docker-${Date.now()}.sock`);
    let env: string[] | undefined;
    const daemon = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      request.on('end', () => {
        if (request.url?.endsWith('/_ping')) {
          response.writeHead(200, { 'api-version': '1.45', 'content-type': 'text/plain' }).end('OK');
        } else if (request.url?.includes('/containers/create')) {
          env = (JSON.parse(text) as { Env: string[] | null }).Env ?? [];
          response.writeHead(201, { 'content-type': 'application/json' }).end('{"Id":"0123456789ab","Warnings":[]}');
        } else {
          response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not in this stand-in"}');
        }
      });
    });
    await new Promise<void>((resolve) => daemon.listen(socket, resolve));
    try {
      const home = scratch.dir;
      await new Promise<void>((resolve, reject) =>
        execFile('docker', ['create', '--env-file', file, 'coffer-test-image'], { env: { ...CLEAN_ENV, PATH: `${CLEAN_ENV.PATH}:/usr/local/bin`, HOME: home, DOCKER_CONFIG: home, DOCKER_HOST: `unix://${socket}` }, maxBuffer: MAX_BUFFER }, (error, _stdout, stderr) =>
          error ? reject(new Error(`docker create failed: ${stderr}`)) : resolve(),
        ),
      );
    } finally {
      await new Promise((resolve) => daemon.close(resolve));
    }
    if (!env) throw new Error('docker never asked to create the container');
    const parsed = Object.fromEntries(env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
    return pick(parsed, keys);
  },
};
