// Portal sessions: vendors (accessplanit, Absorb) put a customer's webhook settings in
// their own admin screens. createPortalSession answers a single-use link; opening it
// signs that browser in to the tenant's dashboard with one role until the session ends,
// without any API key being shown, and the page may be framed only by the origins given.
import { notify } from '../pubsub/changes.ts';
import { uuidv7 } from '../db/ids.ts';
import { forbidden, notFound } from '../rules/errors.ts';
import { hashKey, newSecret, PORTAL_PREFIX } from '../rules/keys.ts';
import { Problems } from '../rules/problems.ts';
import type { Role } from '../rules/roles.ts';
import { isUuid } from '../rules/values.ts';
import type { Principal } from './authenticate.ts';
import { endSession, insertSession, openLink, sessionOfLink, sessionTenant } from '../store/portal.ts';
import { tenantExists } from '../store/tenants.ts';
import { inTransaction } from '../store/transaction.ts';

export const PORTAL_LIMITS = { minMinutes: 1, maxMinutes: 24 * 60, origins: 10, brandName: 80 };
/** Where a portal link points: `/portal/<link>`. */
export const PORTAL_PATH = '/portal/';

export interface PortalInput {
  tenantId?: string | null;
  role: Role;
  expiresInMinutes: number;
  allowedOrigins: string[];
  brandName?: string | null;
  brandColor?: string | null;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** Why `origin` is not one a browser sends (scheme, host and port; https, or http on loopback), or null. */
function originProblem(origin: string): string | null {
  const shown = JSON.stringify(origin.slice(0, 80));
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `${shown} is not an origin such as https://admin.vendor.example`;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) return `${shown} must be https (http only on loopback)`;
  if (url.origin !== origin) return `${shown} is not an origin: give the scheme, host and port only (${url.origin})`;
  return null;
}

/**
 * A single-use link to the tenant's dashboard with `role` for `expiresInMinutes`. The
 * operator names the tenant; a tenant's ADMIN key may make one for its own tenant only,
 * and a portal session never makes another.
 */
export async function createPortalSession(principal: Principal, input: PortalInput, publicUrl: string): Promise<{ id: string; url: string; expiresAt: Date }> {
  const tenantId = principal.kind === 'operator' ? (input.tenantId ?? '') : ownTenant(principal, 'createPortalSession', input.tenantId);
  const problems = new Problems();
  if (principal.kind === 'operator' && !tenantId) problems.add('input.tenantId', 'is required with the operator key: the tenant the portal is for');
  problems.range('input.expiresInMinutes', input.expiresInMinutes, PORTAL_LIMITS.minMinutes, PORTAL_LIMITS.maxMinutes, 'minutes');
  if (input.allowedOrigins.length === 0) problems.add('input.allowedOrigins', 'give at least one origin that may embed the portal, such as https://admin.vendor.example');
  if (input.allowedOrigins.length > PORTAL_LIMITS.origins) problems.add('input.allowedOrigins', `at most ${PORTAL_LIMITS.origins} origins`);
  input.allowedOrigins.slice(0, PORTAL_LIMITS.origins).forEach((origin, i) => {
    const problem = originProblem(origin);
    if (problem) problems.add(`input.allowedOrigins[${i}]`, problem);
  });
  const brandName = input.brandName?.trim() || null;
  if (brandName && brandName.length > PORTAL_LIMITS.brandName) problems.add('input.brandName', `at most ${PORTAL_LIMITS.brandName} characters`);
  if (input.brandColor && !/^#[0-9a-fA-F]{6}$/.test(input.brandColor)) problems.add('input.brandColor', 'must be a colour written #rrggbb, such as #1d4ed8');
  problems.throwIfAny();
  if (!isUuid(tenantId) || !(await tenantExists(tenantId))) throw notFound('tenant', tenantId);
  const link = newSecret();
  const expiresAt = new Date(Date.now() + input.expiresInMinutes * 60_000);
  const id = uuidv7();
  await insertSession({ id, tenantId, role: input.role, linkHash: hashKey(link), allowedOrigins: input.allowedOrigins, brandName, brandColor: input.brandColor?.toLowerCase() ?? null, expiresAt });
  return { id, url: `${publicUrl.replace(/\/$/, '')}${PORTAL_PATH}${link}`, expiresAt };
}

/** The tenant a tenant's key acts for: an ADMIN key (not a portal session), for its own tenant only. */
function ownTenant(principal: Principal & { kind: 'key' }, what: string, named?: string | null): string {
  if (principal.portal || principal.role !== 'ADMIN') throw forbidden(`${what} needs a key with role ADMIN (or the operator key)`);
  if (named && named !== principal.tenantId) throw forbidden(`a tenant's key manages portal sessions of its own tenant only`);
  return principal.tenantId;
}

/**
 * Ends a portal session now (the vendor's user signed out, or lost access): its requests
 * are refused and its live connections closed, on every process. Answers whether it was
 * still going; another tenant's session is NOT_FOUND.
 */
export async function endPortalSession(principal: Principal, id: string): Promise<boolean> {
  const session = isUuid(id) ? await sessionTenant(id) : null;
  if (!session || (principal.kind === 'key' && ownTenant(principal, 'endPortalSession') !== session.tenantId)) throw notFound('portal session', id);
  return inTransaction(async (tx) => {
    if (!(await endSession(tx, id))) return false;
    await notify(tx, [{ k: 'key', t: session.tenantId, id: `portal:${id}` }]);
    return true;
  });
}

/** The session a portal link belongs to, used or not (its page is framed by its origins only), or null. */
export async function portalOfLink(link: string) {
  return sessionOfLink(hashKey(link));
}

export type Redeemed = { secret: string; expiresAt: Date } | { refused: string; status: 404 | 410 };

/** Opens a link, once: answers the session's secret (known only to the browser that opened it), or why not. */
export async function redeemPortalLink(link: string): Promise<Redeemed> {
  const secret = newSecret(PORTAL_PREFIX);
  // One statement: of two browsers opening the same link at once, one gets it.
  const opened = await openLink(hashKey(link), hashKey(secret));
  if (opened) return { secret, expiresAt: opened.expiresAt };
  const session = await portalOfLink(link);
  if (!session) return { refused: 'This portal link is not known.', status: 404 };
  if (session.usedAt) return { refused: 'This portal link was used already: open the portal again from where you came.', status: 410 };
  return { refused: 'This portal link has expired: open the portal again from where you came.', status: 410 };
}
