import { db } from '../db/client.ts';
import { keyByHash } from '../store/tenants.ts';
import type { Role } from '../rules/roles.ts';
import { bearerToken, hashKey, sameSecret } from '../rules/keys.ts';

/** Who is calling: a tenant's API key, or the operator. */
export type Principal =
  | { kind: 'key'; keyId: string; tenantId: string; role: Role }
  | { kind: 'operator' };

export type Authentication = { principal: Principal } | { principal: null; problem: string };

const TOUCH_INTERVAL_MS = 60_000;

/** Resolves an Authorization header value. Never throws for a bad key: the fields that need one do. */
export async function authenticate(header: string | null | undefined, operatorKey?: string): Promise<Authentication> {
  if (!header) return { principal: null, problem: 'no API key given: send "Authorization: Bearer <key>"' };
  const token = bearerToken(header);
  if (!token) return { principal: null, problem: 'malformed Authorization header: expected "Bearer <key>"' };
  if (operatorKey && sameSecret(token, operatorKey)) return { principal: { kind: 'operator' } };
  const key = await keyByHash(hashKey(token));
  if (!key) return { principal: null, problem: 'unknown API key' };
  if (key.revokedAt) return { principal: null, problem: 'this API key has been revoked' };
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await db().apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date() } });
  }
  return { principal: { kind: 'key', keyId: key.id, tenantId: key.tenantId, role: key.role } };
}

/** Whether a principal's key is still valid (for long-lived connections). */
export async function stillValid(principal: Principal): Promise<boolean> {
  if (principal.kind === 'operator') return true;
  const key = await db().apiKey.findUnique({ where: { id: principal.keyId }, select: { revokedAt: true } });
  return !!key && !key.revokedAt;
}
