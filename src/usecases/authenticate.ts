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

/** Resolves an Authorization header value. Never throws for a bad key: the fields that need one do. */
export async function authenticate(header: string | null | undefined, operatorKey?: string): Promise<Authentication> {
  if (!header) return { principal: null, problem: 'no API key given: send "Authorization: Bearer <key>"' };
  const token = bearerToken(header);
  if (!token) return { principal: null, problem: 'malformed Authorization header: expected "Bearer <key>"' };
  if (operatorKey && sameSecret(token, operatorKey)) return { principal: { kind: 'operator' } };
  if (token.startsWith(PORTAL_PREFIX)) return portalSession(token);
  const key = await keyByHash(hashKey(token));
  if (!key) return { principal: null, problem: 'unknown API key' };
  if (key.revokedAt) return { principal: null, problem: 'this API key has been revoked' };
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await touchKey(key.id);
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
