import { db, type Tx } from '../db/client.ts';
import type { Condition, Prisma, Topic, TopicField, Webhook } from '../generated/prisma/client.ts';
import type { ConditionInput, StoredHeader } from '../rules/webhookSettings.ts';
import * as sql from './sql/webhooks.ts';

const RESEAL_LOCK = 7_314_002;

/** The labels and event types of the tenant's webhooks (not deleted) on a topic. */
export function webhooksOnTopic(tenantId: string, key: string): Promise<Array<{ label: string; eventTypes: string[] }>> {
  return db().webhook.findMany({ where: { tenantId, deletedAt: null, topics: { has: key } }, select: { label: true, eventTypes: true } });
}

/** Webhooks by id (whoever's: callers check the tenant). */
export function webhooksById(ids: readonly string[]): Promise<Webhook[]> {
  return db().webhook.findMany({ where: { id: { in: [...ids] } } });
}

/** Webhooks with a secret not sealed as `sealedNow` (a LIKE pattern), under a lock so that processes starting together look once. */
export async function lockNotSealed(tx: Tx, sealedNow: string) {
  await tx.$executeRaw(sql.resealLock(RESEAL_LOCK));
  return tx.$queryRaw<Array<{ id: string; secret: string; previous_secret: string | null; headers: StoredHeader[] }>>(sql.notSealedWith(sealedNow));
}

/** One of the tenant's webhooks (deleted ones too unless `includeDeleted` is false), its secrets still sealed; null when there is none. */
export function tenantWebhook(tenantId: string, id: string, includeDeleted: boolean): Promise<Webhook | null> {
  return db().webhook.findFirst({ where: { id, tenantId, ...(includeDeleted ? {} : { deletedAt: null }) } });
}

/** A webhook as it is now, in the caller's transaction (or outside one). */
export function webhookNow(id: string, tx: Tx = db()): Promise<Webhook> {
  return tx.webhook.findUniqueOrThrow({ where: { id } });
}

export function insertWebhook(tx: Tx, data: Prisma.WebhookUncheckedCreateInput): Promise<Webhook> {
  return tx.webhook.create({ data });
}

/** Changes a webhook's row, in the caller's transaction (or outside one). */
export function changeWebhook(id: string, data: Prisma.WebhookUncheckedUpdateInput, tx: Tx = db()): Promise<Webhook> {
  return tx.webhook.update({ where: { id }, data });
}

/** The tenant's webhooks (not deleted), by label. */
export function tenantWebhooks(tenantId: string): Promise<Webhook[]> {
  return db().webhook.findMany({ where: { tenantId, deletedAt: null }, orderBy: { label: 'asc' } });
}

/** A page of webhooks, newest first (plugin-prisma's query, bounded by its keyset). */
export function webhookPage(page: Omit<Prisma.WebhookFindManyArgs, 'orderBy'>): Promise<Webhook[]> {
  return db().webhook.findMany({ ...page, orderBy: { id: 'desc' } });
}

/** One webhook as `query` selects it (its tenant checked before). */
export function webhookAs(query: Omit<Prisma.WebhookFindUniqueOrThrowArgs, 'where'>, id: string): Promise<Webhook> {
  return db().webhook.findUniqueOrThrow({ ...query, where: { id } });
}

/** The tenant's own topics (not Herald's) with their fields in order, by key. */
export function ownTopics(tenantId: string): Promise<Array<Topic & { fields: TopicField[] }>> {
  return db().topic.findMany({ where: { tenantId, builtIn: false }, include: { fields: { orderBy: { position: 'asc' } } }, orderBy: { key: 'asc' } });
}

// ---- conditions ---------------------------------------------------------------

/** Webhooks' conditions, each webhook's in position order. */
export function conditionsOf(webhookIds: string[]): Promise<Condition[]> {
  return db().condition.findMany({ where: { webhookId: { in: webhookIds } }, orderBy: { position: 'asc' } });
}

/** One of the tenant's conditions (of a webhook not deleted), with its webhook; null when there is none. */
export function tenantCondition(tenantId: string, id: string): Promise<(Condition & { webhook: Webhook }) | null> {
  return db().condition.findFirst({ where: { id, webhook: { tenantId, deletedAt: null } }, include: { webhook: true } });
}

export function changeCondition(id: string, data: Prisma.ConditionUncheckedUpdateInput): Promise<Condition> {
  return db().condition.update({ where: { id }, data });
}

/** Removes a condition, and everything inside it when it is a group. */
export async function removeCondition(id: string): Promise<void> {
  await db().condition.delete({ where: { id } });
}

/** One condition as `query` selects it (its tenant checked before). */
export function conditionAs(query: Omit<Prisma.ConditionFindUniqueOrThrowArgs, 'where'>, id: string): Promise<Condition> {
  return db().condition.findUniqueOrThrow({ ...query, where: { id } });
}

/** Replaces a webhook's whole condition tree, in the caller's transaction. */
export async function replaceConditions(tx: Tx, webhookId: string, conditions: ConditionInput[]): Promise<void> {
  await tx.condition.deleteMany({ where: { webhookId } });
  await insertConditions(tx, webhookId, null, conditions);
}

/** Stores conditions (groups with what they hold) after a parent's existing ones, in the caller's transaction; answers the top ones. */
export async function insertConditions(tx: Tx, webhookId: string, parentId: string | null, conditions: ConditionInput[]): Promise<Condition[]> {
  const siblings = await tx.condition.count({ where: { webhookId, parentId } });
  const created = [];
  for (const [i, condition] of conditions.entries()) {
    const position = siblings + i;
    if (condition.group) {
      const group = await tx.condition.create({ data: { webhookId, parentId, position, kind: 'GROUP', combinator: condition.group.match } });
      await insertConditions(tx, webhookId, group.id, condition.group.conditions);
      created.push(group);
    } else {
      const rule = condition.rule!;
      created.push(
        await tx.condition.create({ data: { webhookId, parentId, position, kind: 'RULE', path: rule.path.trim(), operator: rule.operator, values: (rule.values ?? []) as never } }),
      );
    }
  }
  return created;
}
