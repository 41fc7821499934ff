import type { Change, ChangeFeed } from '../pubsub/changes.ts';
import { keyByHash, touchKey } from '../store/tenants.ts';
import { sessionBySecret } from '../store/portal.ts';
import { permissionsOf, type Permission, type Role } from '../rules/roles.ts';
import { bearerToken, hashKey, PORTAL_PREFIX, sameSecret } from '../rules/keys.ts';

/** Who is calling: a tenant's API key, or the operator. */
export type Principal =
  | { kind: 'key'; keyId: string; tenantId: string; role: Role; portal?: PortalOf }
  | { kind: 'operator' };

/** A principal that is a portal session (a vendor's embedded dashboard), not an API key. */
export interface PortalOf {
  id: string;
  expiresAt: Date;
  brandName: string | null;
  brandColor: string | null;
}

export type Authentication = { principal: Principal } | { principal: null; problem: string };

const TOUCH_INTERVAL_MS = 60_000;

type KeyRow = NonNullable<Awaited<ReturnType<typeof keyByHash>>>;

/**
 * API keys read lately, by hash, so that a call costs no round trip for its key. Trusted only while the change feed
 * listens: a revocation anywhere evicts the key within the feed's delay (in this process at once), a lost feed empties it.
 */
const KEY_CACHE = { max: 10_000, ttlMs: 60_000 };
const knownKeys = new Map<string, { key: KeyRow; until: number }>();
let following = false;
/** Counts key changes: a read that began before one is not kept (it may be older than the change). */
let keyChanges = 0;

/**
 * Keeps keys while `feed` listens, forgetting each one it says changed; the app calls this once its feed is started,
 * and the function it answers when it stops (a process's next app may be on another database).
 */
export function followKeyChanges(feed: ChangeFeed): () => void {
  forgetAllKeys();
  following = true;
  const changed = (change: Change) => change.k === 'key' && forgetKey(change.id);
  const lost = () => ((following = false), forgetAllKeys());
  const back = () => ((following = true), forgetAllKeys());
  feed.on('change', changed).on('lost', lost).on('reconnected', back);
  return () => {
    feed.off('change', changed).off('lost', lost).off('reconnected', back);
    lost();
  };
}

/** A key changed (revoked): its next use reads it again. */
export function forgetKey(keyId: string): void {
  keyChanges += 1;
  for (const [hash, known] of knownKeys) if (known.key.id === keyId) knownKeys.delete(hash);
}

function forgetAllKeys(): void {
  keyChanges += 1;
  knownKeys.clear();
}

async function keyOf(hash: string): Promise<KeyRow | undefined> {
  const known = knownKeys.get(hash);
  if (known && known.until > Date.now() && following) return known.key;
  const changesBefore = keyChanges;
  const key = await keyByHash(hash);
  if (key && !key.revokedAt && following && changesBefore === keyChanges) {
    knownKeys.delete(hash);
    knownKeys.set(hash, { key, until: Date.now() + KEY_CACHE.ttlMs });
    if (knownKeys.size > KEY_CACHE.max) knownKeys.delete(knownKeys.keys().next().value!);
  }
  return key;
}

/** Resolves an Authorization header value. Never throws for a bad key: the fields that need one do. */
export async function authenticate(header: string | null | undefined, operatorKey?: string): Promise<Authentication> {
  if (!header) return { principal: null, problem: 'no API key given: send "Authorization: Bearer <key>"' };
  const token = bearerToken(header);
  if (!token) return { principal: null, problem: 'malformed Authorization header: expected "Bearer <key>"' };
  if (operatorKey && sameSecret(token, operatorKey)) return { principal: { kind: 'operator' } };
  if (token.startsWith(PORTAL_PREFIX)) return portalSession(token);
  const key = await keyOf(hashKey(token));
  if (!key) return { principal: null, problem: 'unknown API key' };
  if (key.revokedAt) return { principal: null, problem: 'this API key has been revoked' };
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await touchKey(key.id);
    key.lastUsedAt = new Date();
  }
  return { principal: { kind: 'key', keyId: key.id, tenantId: key.tenantId, role: key.role } };
}

/** A portal session's secret (usecases/portal.ts): its tenant and role until it ends. */
async function portalSession(secret: string): Promise<Authentication> {
  const session = await sessionBySecret(hashKey(secret));
  if (!session) return { principal: null, problem: 'unknown portal session' };
  if (session.expiresAt <= new Date()) return { principal: null, problem: 'this portal session has ended: open the portal again from where you came' };
  const portal = { id: session.id, expiresAt: session.expiresAt, brandName: session.brandName, brandColor: session.brandColor };
  return { principal: { kind: 'key', keyId: `portal:${session.id}`, tenantId: session.tenantId, role: session.role, portal } };
}

/**
 * What a principal may do in its tenant: its role's permissions; a portal session's
 * without `admin`, so that an embedded dashboard never makes or shows a key.
 */
export function permissionsOfPrincipal(principal: Principal | null | undefined): Permission[] {
  if (principal?.kind !== 'key') return [];
  const granted = permissionsOf(principal.role);
  return principal.portal ? granted.filter((p) => p !== 'admin') : granted;
}
