import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { createApiClient, CliError, EXIT } from '../api-client.js';
import { DEFAULT_URL, readCredentials, removeCredentials, writeCredentials } from '../credentials.js';

let piped: string[] | undefined;

/**
 * A line from the person at the terminal (echo muted for a password), or the next line of
 * piped stdin (CI): all of stdin is read once, so a last line without a newline counts and
 * an empty stdin answers "" instead of hanging.
 */
export async function prompt(question: string, hidden = false): Promise<string> {
  if (!process.stdin.isTTY) {
    if (piped === undefined) {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      piped = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
    }
    return (piped.shift() ?? '').trim();
  }
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = hidden;
    const value = await answer;
    if (hidden) process.stderr.write('\n');
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
        await createApiClient({ url, token: options.token }).request('GET', options.token.startsWith('cfr_') ? '/token' : '/me');
        const file = writeCredentials({ url, token: options.token });
        process.stderr.write(`Stored the API token for ${url} in ${file}\n`);
        return;
      }
      const email = options.email ?? (await prompt('Email: '));
      if (!email) throw new CliError('An email is needed: --email ada@example.com', EXIT.usage);
      const password = await prompt('Password: ', true);
      if (!password) throw new CliError('A password is needed', EXIT.usage);
      const response = await createApiClient({ url })
        .request('POST', '/auth/login', { email, password })
        .catch((error: unknown) => {
          // The generic hint ("run coffer login") is no help to someone running it.
          if (error instanceof CliError && error.exitCode === EXIT.unauthenticated) throw new CliError('Email or password is incorrect', EXIT.unauthenticated);
          throw error;
        });
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
      // An API token is not ended by signing out (coffer tokens revoke does that): only the local copy goes.
      const failure = stored.token.startsWith('cfr_')
        ? undefined
        : await createApiClient({ url: stored.url, token: stored.token })
            .request('POST', '/auth/logout')
            .then(
              () => undefined,
              (error: unknown) => error,
            );
      // The local copy goes even when the server cannot be told.
      removeCredentials();
      if (failure instanceof CliError && failure.exitCode === EXIT.unauthenticated) {
        // Refused as signed out: the session had already ended (expired, or signed out elsewhere).
        process.stderr.write(`Signed out of ${stored.url} (the session had already ended there)\n`);
        return;
      }
      if (failure) {
        const why = failure instanceof Error ? failure.message : String(failure);
        throw new CliError(
          `Removed the local credentials, but ${stored.url} could not end the session (${why}). ` +
            'The session stays valid until it expires (at most 12 hours by default, or 2 hours unused): ' +
            'sign in and revoke it (GET /api/v1/me/sessions, DELETE /api/v1/me/sessions/{id}) if the token may have leaked',
          EXIT.failure,
        );
      }
      process.stderr.write(
        stored.token.startsWith('cfr_')
          ? `Forgot the API token stored for ${stored.url}; it stays valid until it is revoked (coffer tokens revoke) or expires\n`
          : `Signed out of ${stored.url}\n`,
      );
    });
}
