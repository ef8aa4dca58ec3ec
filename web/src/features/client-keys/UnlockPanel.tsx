import { useState, type FormEvent } from 'react';
import { ErrorText, Field } from '../../ui/form';
import { unlockProject } from './api';
import { lock, remember, useUnlocked } from './store';

/**
 * A client-managed project's lock: the passphrase is typed here, Argon2id runs in the page,
 * and the unwrapped key stays in this page's memory until "Lock", signing out or a reload.
 * Neither the passphrase nor the key is ever sent anywhere.
 */
export function UnlockPanel({ org, project }: { org: string; project: string }) {
  const opened = useUnlocked(org, project);
  const [deriving, setDeriving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [took, setTook] = useState<number | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const passphrase = String(new FormData(form).get('passphrase') ?? '');
    setError(null);
    setDeriving(true);
    try {
      const { opened: key, derivedMs } = await unlockProject(org, project, passphrase);
      setTook(derivedMs);
      remember(org, project, key);
    } catch (failure) {
      setError(failure);
    } finally {
      form.reset();
      setDeriving(false);
    }
  }

  return (
    <section className="card" aria-labelledby="client-key-heading">
      <h2 id="client-key-heading">Client-managed encryption</h2>
      {opened ? (
        <>
          <p role="status">
            Unlocked in this page: values are decrypted here, with a key derived from the passphrase{took !== null ? ` in ${took} ms` : ''}. It is held in memory only and
            forgotten when you lock, sign out or reload.
          </p>
          <button type="button" onClick={() => lock(org, project)}>Lock</button>
        </>
      ) : (
        <form onSubmit={(event) => void submit(event)}>
          <p>
            The server cannot read this project&apos;s values: they are encrypted by clients under a key only the project passphrase opens. Unlock to decrypt them in
            this page; the passphrase never leaves the browser.
          </p>
          <Field label="Project passphrase" name="passphrase" type="password" autoComplete="off" required disabled={deriving} />
          <button type="submit" disabled={deriving}>Unlock with passphrase</button>
          {deriving && <p role="status">Deriving the key from the passphrase (Argon2id)…</p>}
          <ErrorText error={error} />
        </form>
      )}
    </section>
  );
}
