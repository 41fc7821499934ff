// Who this tab is signed in as: the API key (or a portal session's secret) in sessionStorage,
// gone when the tab closes, and who wants to know when the server no longer takes it.
import { ApiError } from './errors.ts';

const KEY = 'herald.apiKey';

export function savedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
  for (const listener of keyChanged) listener();
}

/** Called when the key changes (the live connection starts again with the new one). */
const keyChanged = new Set<() => void>();
export function onKeyChanged(listener: () => void): void {
  keyChanged.add(listener);
}

/** The portal link this page was opened from (`/portal/<link>`), or null: a vendor's embedded dashboard. */
export function portalLink(): string | null {
  return location.pathname.startsWith(PORTAL_PATH) ? location.pathname.slice(PORTAL_PATH.length) : null;
}
const PORTAL_PATH = '/portal/';
const OPENED = 'herald.portalLink';

/**
 * Signs this tab in with a portal link: the server answers the session's secret once,
 * and this tab keeps it (a reload keeps the session; no API key is ever shown).
 */
export async function openPortal(link: string): Promise<void> {
  if (sessionStorage.getItem(OPENED) === link && savedKey()) return;
  const response = await fetch(`${PORTAL_PATH}${link}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = (await response.json().catch(() => ({}))) as { secret?: string; error?: string };
  if (!response.ok || !body.secret) throw new ApiError(body.error ?? `Herald answered ${response.status}`, 'PORTAL', []);
  saveKey(body.secret);
  sessionStorage.setItem(OPENED, link);
}

/** Called when the server no longer takes the key (revoked, or a portal session that ended). */
const signedOut = new Set<(why: string) => void>();
export function onSignedOut(listener: (why: string) => void): () => void {
  signedOut.add(listener);
  return () => signedOut.delete(listener);
}
export function refused(why: string): void {
  for (const listener of signedOut) listener(why);
}

