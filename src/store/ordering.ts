import type { Tx } from '../db/client.ts';
import { NOTIFY_CHANGED_INSTANCES } from '../pubsub/changes.ts';
import { enqueueDeliveries } from '../queue/boss.ts';

/**
 * Per-entity ordered delivery. An instance of an ordered webhook is *held* (PENDING,
 * no job) while an earlier instance of the same entity is on its way; when that one
 * is COMPLETED, FAILED or CANCELLED the oldest held one is released. A transaction
 * lock per (webhook, entity) keeps publishers and workers from racing.
 */
export async function lockEntity(tx: Tx, webhookId: string, entityId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${webhookId}:${entityId}`}, 0))`;
}

/** Whether an instance of this (webhook, entity) is being delivered or waits to be. */
export async function onItsWay(tx: Tx, webhookId: string, entityId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<unknown[]>`
    SELECT 1 FROM instance
    WHERE webhook_id = ${webhookId}::uuid AND entity_id = ${entityId}
      AND (status IN ('SENDING', 'RETRYING') OR (status = 'PENDING' AND NOT held))
    LIMIT 1`;
  return rows.length > 0;
}

/** Releases the oldest held instance of the entity when nothing else of it is on its way. */
export async function releaseNext(tx: Tx, webhookId: string, entityId: string): Promise<void> {
  await releaseNextOf(tx, webhookId, [entityId]);
}

/** Entities locked per statement when many are released at once (a resumed webhook's backlog). */
const LOCKS_PER_STEP = 500;

/**
 * For each entity: releases its oldest held instance when nothing else of it is on its
 * way. The entities' locks are taken in one order, so two callers cannot deadlock.
 */
export async function releaseNextOf(tx: Tx, webhookId: string, entityIds: string[]): Promise<void> {
  const sorted = [...new Set(entityIds)].sort();
  for (let i = 0; i < sorted.length; i += LOCKS_PER_STEP) {
    const entities = sorted.slice(i, i + LOCKS_PER_STEP);
    await tx.$queryRaw`
      SELECT count(pg_advisory_xact_lock(hashtextextended(${webhookId}::text || ':' || e, 0)))
      FROM (SELECT e FROM unnest(${entities}::text[]) WITH ORDINALITY AS u(e, n) ORDER BY n) AS locked`;
    // A statement of its own, so that it sees what the lock holders before it committed.
    const released = await tx.$queryRaw<Array<{ id: string }>>`
      WITH heads AS (
        SELECT DISTINCT ON (entity_id) id, entity_id FROM instance
        WHERE webhook_id = ${webhookId}::uuid AND entity_id = ANY(${entities}::text[]) AND status = 'PENDING' AND held
        ORDER BY entity_id, id),
      busy AS (
        SELECT DISTINCT entity_id FROM instance
        WHERE webhook_id = ${webhookId}::uuid AND entity_id = ANY(${entities}::text[])
          AND (status IN ('SENDING', 'RETRYING') OR (status = 'PENDING' AND NOT held))),
      changed AS (
        UPDATE instance SET held = false, updated_at = now()
        WHERE id IN (SELECT id FROM heads WHERE entity_id NOT IN (SELECT entity_id FROM busy))
        RETURNING id, tenant_id, webhook_id, status)
      ${NOTIFY_CHANGED_INSTANCES}`;
    await enqueueDeliveries(tx, released.map((r) => ({ instanceId: r.id, webhookId, trigger: 'AUTO' as const })));
  }
}
