import type { Tx } from '../db/client.ts';
import { enqueueDeliveries } from '../queue/boss.ts';
import * as sql from './sql/instances.ts';

/**
 * Per-entity ordered delivery: an instance waits held (no job) while an earlier one of its entity is on its way, and the oldest held
 * one goes when that one ends; a transaction lock per (webhook, entity) keeps publishers and workers from racing.
 */
export async function lockEntity(tx: Tx, webhookId: string, entityId: string): Promise<void> {
  await tx.$executeRaw(sql.lockEntity(webhookId, entityId));
}

/** Whether an instance of this (webhook, entity) is being delivered or waits to be. */
export async function onItsWay(tx: Tx, webhookId: string, entityId: string): Promise<boolean> {
  return (await tx.$queryRaw<unknown[]>(sql.onItsWay(webhookId, entityId))).length > 0;
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
    await tx.$queryRaw(sql.lockEntities(webhookId, entities));
    // A statement of its own, so that it sees what the lock holders before it committed.
    const released = await tx.$queryRaw<Array<{ id: string; tenant_id: string }>>(sql.releaseHeads(webhookId, entities));
    await enqueueDeliveries(tx, released.map((r) => ({ instanceId: r.id, tenantId: r.tenant_id, webhookId, trigger: 'AUTO' as const })));
  }
}
