import { useState } from 'react';
import { useSearchParams } from 'react-router';

/** Set by the server when it sends a refused SSO sign-in back here (src/modules/sso/console-refusal.ts). */
const COOKIE = 'coffer_sso_error';

/** Said when the message cookie is gone (a reload of the page, or it expired). */
const GENERIC: Record<string, string> = {
  UNAUTHENTICATED: 'The identity provider’s answer could not be accepted; start the sign-in again.',
  FORBIDDEN: 'Single sign-on did not let you into this organization; ask an admin.',
  NOT_FOUND: 'This organization has no single sign-on.',
  UNAVAILABLE: 'The identity provider could not be reached; try again later.',
};

/** Reads the refusal's message once and deletes its cookie: a later visit shows nothing stale. */
function takeRefusal(): { message: string; request_id?: string } | undefined {
  const raw = document.cookie.split('; ').find((pair) => pair.startsWith(`${COOKIE}=`));
  if (!raw) return undefined;
  document.cookie = `${COOKIE}=; Max-Age=0; Path=/signin; SameSite=Lax`;
  try {
    const value = JSON.parse(decodeURIComponent(raw.slice(COOKIE.length + 1))) as { message?: unknown; request_id?: unknown };
    return typeof value.message === 'string' ? { message: value.message, ...(typeof value.request_id === 'string' ? { request_id: value.request_id } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/** Why the last SSO sign-in was refused, when the server sent the browser back here with `?sso_error=`. */
export function SsoRefusal() {
  const [params] = useSearchParams();
  const code = params.get('sso_error');
  const [refusal] = useState(takeRefusal);
  if (!code) return null;
  const message = refusal?.message ?? GENERIC[code] ?? 'Single sign-on failed; start the sign-in again.';
  return (
    <div role="alert" className="error" id="sso-refusal">
      <p>
        <strong>Single sign-on failed.</strong> {message}
      </p>
      {refusal?.request_id && <p className="hint">Request id: {refusal.request_id}</p>}
    </div>
  );
}
