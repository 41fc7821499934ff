import { db, query } from '../db/client.ts';
import type { Inbox, InboxRequest, Prisma, Webhook } from '../generated/prisma/client.ts';
import type { Change } from '../pubsub/changes.ts';
import * as sql from './sql/inboxes.ts';

/**
 * Saves a captured request in one statement, no transaction to wait for, so that a burst
 * of captures cannot time out or deadlock; older requests past `kept` are trimmed.
 */
export async function saveCapture(capture: sql.Capture, kept: number, change: Change): Promise<void> {
  await query(sql.saveCapture(capture, kept, JSON.stringify(change)));
}

/** Header names whose values an inbox must not keep (see sql/inboxes.ts). */
export async function secretHeaderNames(tenantId: string, inboxWebhookId: string | null, senderInstanceId: string | null): Promise<Set<string>> {
  const rows = await query<{ name: string }>(sql.secretHeaderNames(tenantId, inboxWebhookId, senderInstanceId));
  return new Set(rows.map((r) => r.name));
}

/** How many inboxes of the tenant have not expired. */
export function liveInboxes(tenantId: string): Promise<number> {
  return db().inbox.count({ where: { tenantId, expiresAt: { gt: new Date() } } });
}

export function insertInbox(data: Prisma.InboxUncheckedCreateInput): Promise<Inbox> {
  return db().inbox.create({ data });
}

/** One of the tenant's inboxes; null when there is none (or it is another tenant's). */
export function tenantInbox(tenantId: string, id: string): Promise<Inbox | null> {
  return db().inbox.findFirst({ where: { id, tenantId } });
}

/** The inbox a capture address names. */
export function inboxByToken(token: string): Promise<Inbox | null> {
  return db().inbox.findUnique({ where: { token } });
}

export function changeInbox(id: string, data: Prisma.InboxUncheckedUpdateInput): Promise<Inbox> {
  return db().inbox.update({ where: { id }, data });
}

export async function removeInbox(id: string): Promise<void> {
  await db().inbox.delete({ where: { id } });
}

/** The webhook an inbox checks signatures against (its secrets still sealed). */
export function inboxWebhook(webhookId: string): Promise<Webhook | null> {
  return db().webhook.findUnique({ where: { id: webhookId } });
}

/** The latest `kept` requests an inbox holds, newest first. */
export function keptRequests(inboxId: string, kept: number): Promise<InboxRequest[]> {
  return db().inboxRequest.findMany({ where: { inboxId }, take: kept, orderBy: { id: 'desc' } });
}

/** Records what checking each request's signature again found, in one transaction. */
export async function recordSignatures(checked: Array<{ id: string; signature: { valid: boolean; message: string } | null }>): Promise<void> {
  await db().$transaction(checked.map(({ id, signature }) => db().inboxRequest.update({ where: { id }, data: { signatureValid: signature?.valid ?? null, signatureMessage: signature?.message ?? null } })));
}

/** A page of an inbox's requests, newest first, among the latest `kept` (plugin-prisma's query, bounded by its keyset: `page` makes it from the where). */
export async function requestPage(inboxId: string, kept: number, page: (where: Prisma.InboxRequestWhereInput) => Omit<Prisma.InboxRequestFindManyArgs, 'orderBy'>): Promise<InboxRequest[]> {
  const oldest = await db().inboxRequest.findFirst({ where: { inboxId }, orderBy: { id: 'desc' }, skip: kept - 1, select: { id: true } });
  return db().inboxRequest.findMany({ ...page({ inboxId, ...(oldest ? { id: { gte: oldest.id } } : {}) }), orderBy: { id: 'desc' } });
}

/** Inbox requests by id (live subscriptions load the rows of changes). */
export function inboxRequestsById(ids: readonly string[]): Promise<InboxRequest[]> {
  return db().inboxRequest.findMany({ where: { id: { in: [...ids] } } });
}

/** A page of inboxes, newest first (plugin-prisma's query, bounded by its keyset). */
export function inboxPage(page: Omit<Prisma.InboxFindManyArgs, 'orderBy'>): Promise<Inbox[]> {
  return db().inbox.findMany({ ...page, orderBy: { id: 'desc' } });
}

/** One inbox as `query` selects it (its tenant checked before). */
export function inboxAs(query: Omit<Prisma.InboxFindUniqueOrThrowArgs, 'where'>, id: string): Promise<Inbox> {
  return db().inbox.findUniqueOrThrow({ ...query, where: { id } });
}
