import { db } from '../db/client.ts';
import type { PortalSession, Prisma } from '../generated/prisma/client.ts';

/** Portal sessions as rows: made, found by their secrets' hashes, opened once, ended. */

export async function insertSession(data: Prisma.PortalSessionUncheckedCreateInput): Promise<void> {
  await db().portalSession.create({ data });
}

/** The session a secret's hash names. */
export function sessionBySecret(sessionHash: string): Promise<PortalSession | null> {
  return db().portalSession.findUnique({ where: { sessionHash } });
}

/** Whose a session is; null when there is none. */
export function sessionTenant(id: string): Promise<{ tenantId: string } | null> {
  return db().portalSession.findUnique({ where: { id }, select: { tenantId: true } });
}

/** Ends a session now, in the caller's transaction; answers whether it was still going. */
export async function endSession(tx: Prisma.TransactionClient, id: string): Promise<boolean> {
  return (await tx.portalSession.updateMany({ where: { id, expiresAt: { gt: new Date() } }, data: { expiresAt: new Date() } })).count > 0;
}

/** The session a link's hash names, used or not. */
export function sessionOfLink(linkHash: string): Promise<{ allowedOrigins: string[]; expiresAt: Date; usedAt: Date | null } | null> {
  return db().portalSession.findUnique({ where: { linkHash }, select: { allowedOrigins: true, expiresAt: true, usedAt: true } });
}

/** Opens a link's session, once, in one statement (of two browsers at once, one gets it): answers when it ends, or null. */
export async function openLink(linkHash: string, sessionHash: string): Promise<{ expiresAt: Date } | null> {
  const [opened] = await db().portalSession.updateManyAndReturn({ where: { linkHash, usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date(), sessionHash }, select: { expiresAt: true } });
  return opened ?? null;
}
