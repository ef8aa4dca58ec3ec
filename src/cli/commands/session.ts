import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { createApiClient, CliError, EXIT } from '../api-client.js';
import { DEFAULT_URL, readCredentials, removeCredentials, writeCredentials } from '../credentials.js';

async function prompt(question: string, hidden = false): Promise<string> {
  // Echo is muted for the password on a terminal; piped input (CI) is read as its first line.
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY === true });
  try {
    const answer = rl.question(question);
    muted = hidden;
    const value = await answer;
    if (hidden && process.stdin.isTTY) process.stderr.write('\n');
    return value.trim();
  } finally {
    rl.close();
  }
}

export function sessionCommands(program: Command) {
  program
    .command('login')
    .description('Sign in and keep the session (or an API token) in your config directory, mode 0600')
    .option('--email <email>', 'your email (asked if missing)')
    .option('--token <token>', 'store this API token instead of signing in with a password')
    .option('--url <url>', 'the Coffer server (default: COFFER_URL or http://127.0.0.1:8080)')
    .addHelpText('after', '\nThe password is read from the terminal, or from the first line of stdin when it is not one.\n\nExamples:\n  coffer login --email ada@example.com\n  coffer login --token cfr_… --url https://coffer.example.com\n  echo "$PASSWORD" | coffer login --email ci@example.com')
    .action(async (options: { email?: string; token?: string; url?: string }) => {
      const url = (options.url ?? process.env.COFFER_URL ?? readCredentials()?.url ?? DEFAULT_URL).replace(/\/+$/, '');
      if (options.token) {
        // Proven before it is stored: a typo should fail now, not at the next deploy.
        await createApiClient({ url, token: options.token }).request('GET', '/orgs?limit=1');
        const file = writeCredentials({ url, token: options.token });
        process.stderr.write(`Stored the API token for ${url} in ${file}\n`);
        return;
      }
      const email = options.email ?? (await prompt('Email: '));
      if (!email) throw new CliError('An email is needed: --email ada@example.com', EXIT.usage);
      const password = await prompt('Password: ', true);
      if (!password) throw new CliError('A password is needed', EXIT.usage);
      const response = await createApiClient({ url }).request('POST', '/auth/login', { email, password });
      const { token } = response.json() as { token: string };
      const file = writeCredentials({ url, token, email });
      process.stderr.write(`Signed in to ${url} as ${email}; the session is kept in ${file}\n`);
    });

  program
    .command('logout')
    .description('End the stored session on the server and forget it here')
    .addHelpText('after', '\nExamples:\n  coffer logout')
    .action(async () => {
      const stored = readCredentials();
      if (!stored) {
        process.stderr.write('Not signed in\n');
        return;
      }
      if (!stored.token.startsWith('cfr_')) {
        // Best effort: the local copy goes even when the server cannot be told.
        await createApiClient({ url: stored.url, token: stored.token })
          .request('POST', '/auth/logout')
          .catch(() => undefined);
      }
      removeCredentials();
      process.stderr.write(`Signed out of ${stored.url}\n`);
    });
}
