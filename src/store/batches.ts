import { db, type Tx } from '../db/client.ts';
import { uuidv7 } from '../db/ids.ts';
import { loadTopics } from './catalog.ts';
import { renderBatch, RenderError, type RenderedPayload } from '../rules/payload.ts';
import { eventShapeOf } from '../rules/events.ts';
import { groupBy } from '../rules/values.ts';
import { stateOf } from '../rules/webhookSettings.ts';
import type { Event } from '../generated/prisma/client.ts';
import { BATCH_QUEUE, queue } from '../queue/boss.ts';
import { fromPrisma } from 'pg-boss';
import { createDeliveries, newDelivery } from './deliveries.ts';
import * as sql from './sql/batches.ts';

/**
 * Batching (Springest's "delay and bundle"): events join a webhook's open batch until its window closes or it is full, then one
 * instance carries them all; a job closes each batch, so a crash while a window is open loses nothing.
 */

interface BatchingWebhook {
  id: string;
  batchWindowMs: number | null;
  batchMaxSize: number;
}

/** Adds events to their webhooks' open batches, in the publish transaction. */
export async function addToBatches(tx: Tx, items: Array<{ webhook: BatchingWebhook; eventId: string }>): Promise<void> {
  const byWebhook = new Map<string, { webhook: BatchingWebhook; eventIds: string[] }>();
  for (const { webhook, eventId } of items) {
    const entry = byWebhook.get(webhook.id) ?? { webhook, eventIds: [] };
    entry.eventIds.push(eventId);
    byWebhook.set(webhook.id, entry);
  }
  for (const { webhook, eventIds } of [...byWebhook.values()].sort((a, b) => a.webhook.id.localeCompare(b.webhook.id))) {
    await tx.$executeRaw(sql.lockBatches(webhook.id));
    let batch = await tx.batch.findFirst({ where: { webhookId: webhook.id, closedAt: null }, orderBy: { openedAt: 'desc' } });
    for (const eventId of eventIds) {
      if (!batch) {
        const closesAt = new Date(Date.now() + webhook.batchWindowMs!);
        batch = await tx.batch.create({ data: { id: uuidv7(), webhookId: webhook.id, closesAt } });
        await closeLater(tx, batch.id, closesAt);
      }
      await tx.batchEvent.create({ data: { batchId: batch.id, eventId, position: batch.size } });
      batch = await tx.batch.update({ where: { id: batch.id }, data: { size: { increment: 1 } } });
      if (batch.size >= webhook.batchMaxSize) {
        await tx.batch.update({ where: { id: batch.id }, data: { closedAt: new Date() } });
        await closeLater(tx, batch.id, new Date());
        batch = null;
      }
    }
  }
}

async function closeLater(tx: Tx, batchId: string, at: Date): Promise<void> {
  await queue().insert(BATCH_QUEUE, [{ data: { batchId }, startAfter: at }], { db: fromPrisma(tx) });
}

/** Turns a batch into one delivery (its events collapsed), made as any other (createDeliveries). Runs once per batch. */
export async function closeBatch(batchId: string): Promise<void> {
  await db().$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<Array<{ id: string }>>(sql.lockOpenBatch(batchId));
    if (!locked) return;
    const batch = await tx.batch.findUniqueOrThrow({
      where: { id: batchId },
      include: { webhook: { include: { gate: true } }, events: { orderBy: { position: 'asc' }, include: { event: true } } },
    });
    const webhook = batch.webhook;
    if (batch.events.length === 0) {
      await tx.batch.update({ where: { id: batchId }, data: { closedAt: batch.closedAt ?? new Date() } });
      return;
    }
    const events = batch.events.map((e) => eventShapeOf(e.event));
    const last = batch.events.at(-1)!.event;
    const state = stateOf(webhook);
    const paused = state === 'PAUSED';
    const off = state === 'DISABLED';
    // Nothing to render for a webhook that is off: the delivery is cancelled.
    let payload: RenderedPayload | RenderError = {} as RenderedPayload;
    try {
      if (!off) payload = renderBatch({ ...webhook, mode: webhook.payloadMode }, events, await loadTopics(webhook.tenantId));
    } catch (error) {
      if (!(error instanceof RenderError)) throw error;
      payload = error;
    }
    const target = { id: webhook.id, paused, off, circuitOpen: !!webhook.gate?.openUntil };
    const instance = newDelivery(webhook.tenantId, target, { ...last, entityId: `batch of ${events.length}` }, payload, new Date());
    await createDeliveries(tx, { instances: [instance], webhooks: [target], job: { trigger: 'AUTO' } });
    await tx.batch.update({ where: { id: batchId }, data: { instanceId: instance.id, closedAt: batch.closedAt ?? new Date() } });
  });
}

/** The events each instance carries, by instance: the first `upTo` of its batch in order, or its one event. */
export async function eventsCarried(instanceIds: string[], upTo: number): Promise<Map<string, Event[]>> {
  const batched = await db().batchEvent.findMany({
    where: { batch: { instanceId: { in: instanceIds } }, position: { lt: upTo } },
    orderBy: [{ batchId: 'asc' }, { position: 'asc' }],
    include: { event: true, batch: { select: { instanceId: true } } },
  });
  const carried = groupBy(batched, (b) => b.batch.instanceId!, (b) => b.event);
  const single = instanceIds.filter((id) => !carried.has(id));
  if (single.length > 0) {
    for (const instance of await db().instance.findMany({ where: { id: { in: single } }, select: { id: true, event: true } })) carried.set(instance.id, [instance.event]);
  }
  return carried;
}
