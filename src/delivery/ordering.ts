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
  await lockEntity(tx, webhookId, entityId);
  if (await onItsWay(tx, webhookId, entityId)) return;
  const released = await tx.$queryRaw<Array<{ id: string }>>`
    WITH changed AS (
      UPDATE instance SET held = false, updated_at = now()
      WHERE id = (SELECT id FROM instance WHERE webhook_id = ${webhookId}::uuid AND entity_id = ${entityId} AND status = 'PENDING' AND held ORDER BY id LIMIT 1)
      RETURNING id, tenant_id, webhook_id, status)
    ${NOTIFY_CHANGED_INSTANCES}`;
  await enqueueDeliveries(tx, released.map((r) => ({ instanceId: r.id, webhookId, trigger: 'AUTO' as const })));
}
