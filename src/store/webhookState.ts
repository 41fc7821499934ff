import { fromPrisma } from 'pg-boss';
import { db, type Tx } from '../db/client.ts';
import { notify } from '../pubsub/changes.ts';
import { enqueueDeliveries, queue, WEBHOOK_STATE_QUEUE } from '../queue/boss.ts';
import type { WebhookState } from '../rules/webhookSettings.ts';
import { releaseNextOf } from './ordering.ts';
import * as gateSql from './sql/gates.ts';
import * as sql from './sql/instances.ts';
import * as webhookSql from './sql/webhooks.ts';

/**
 * A webhook's state (ACTIVE, PAUSED, DISABLED) changes at once and its deliveries in steps of CONVERGE_STEP, the rest by a job, so a
 * backlog of any size changes in bounded transactions (docs/architecture.md, "A webhook's state").
 */
export const CONVERGE_STEP = 2000;
/** A publish that read the old state commits within this; a second pass then catches what it recorded. */
const STRAGGLER_PASS_MS = 10_000;

interface StateChange {
  /** Why, when Herald (not a person) paused it. */
  reason?: string | null;
}

/**
 * Moves a webhook to `to` inside `tx`: ACTIVE sends what it held (in order, when ordered)
 * and clears its failure count; PAUSED holds what waits; DISABLED cancels what waits and
 * what is held. Answers nothing; the webhook's change is announced.
 */
export async function changeState(tx: Tx, webhook: { id: string; tenantId: string }, to: WebhookState, { reason = null }: StateChange = {}): Promise<void> {
  const now = new Date();
  const data =
    to === 'ACTIVE'
      ? { active: true, pausedAt: null, deactivatedReason: null, deactivatedAt: null, consecutiveFailures: 0, failingSince: null }
      : to === 'PAUSED'
        ? { active: false, pausedAt: now, deactivatedReason: reason, deactivatedAt: reason ? now : null }
        : { active: false, pausedAt: null };
  await tx.webhook.update({ where: { id: webhook.id }, data });
  // A person resuming says the receiver is back: its circuit closes and any slow-down is forgotten.
  if (to === 'ACTIVE') {
    await tx.$executeRaw(gateSql.resetGate(webhook.id));
  }
  await notify(tx, [{ k: 'webhook', t: webhook.tenantId, id: webhook.id }]);
  const changed = await converge(tx, webhook.id, CONVERGE_STEP);
  await convergeLater(tx, webhook.id, changed >= CONVERGE_STEP);
}

/**
 * Brings up to `limit` of a webhook's deliveries in line with its state (held → PENDING with jobs, the oldest per entity when ordered;
 * waiting → PAUSED; → CANCELLED when off or deleted); answers how many changed.
 */
export async function converge(tx: Tx, webhookId: string, limit: number): Promise<number> {
  const [webhook] = await tx.$queryRaw<Array<{ tenant_id: string; active: boolean; paused: boolean; deleted: boolean; ordered: boolean }>>(webhookSql.stateOf(webhookId));
  if (!webhook) return 0;
  if (webhook.deleted || (!webhook.active && !webhook.paused)) {
    const message = webhook.deleted ? 'cancelled: the webhook was deleted' : 'cancelled: the webhook was turned off';
    return (await tx.$queryRaw<unknown[]>(sql.cancelWaiting(webhook.tenant_id, webhookId, limit, message))).length;
  }
  // Paused: waiting deliveries are held; a RETRYING one keeps its attempts (its job finds it PAUSED and leaves it).
  if (webhook.paused) return (await tx.$queryRaw<unknown[]>(sql.holdWaiting(webhook.tenant_id, webhookId, limit))).length;
  // Active: what was held goes, oldest first.
  const tenantId = webhook.tenant_id;
  const released = await tx.$queryRaw<Array<{ id: string; entity_id: string }>>(sql.releaseHeld(webhookId, limit, webhook.ordered));
  if (webhook.ordered) await releaseNextOf(tx, webhookId, [...new Set(released.map((r) => r.entity_id))]);
  else await enqueueDeliveries(tx, released.map((r) => ({ instanceId: r.id, tenantId, webhookId, trigger: 'AUTO' as const, background: true })));
  // And what waited for its circuit to close, once it has.
  const unparked = await tx.$queryRaw<Array<{ id: string; status: string }>>(sql.unpark(webhookId, limit));
  await enqueueDeliveries(tx, unparked.map((r) => ({ instanceId: r.id, tenantId, webhookId, trigger: 'AUTO' as const, retry: r.status === 'RETRYING', background: true })));
  return Math.max(released.length, unparked.length);
}

/** Queues the rest of a state change: at once when a step was full, and a pass after publishes in flight have committed. */
async function convergeLater(tx: Tx, webhookId: string, more: boolean): Promise<void> {
  const later = new Date(Date.now() + STRAGGLER_PASS_MS);
  const jobs = [...(more ? [{ data: { webhookId } }] : []), { data: { webhookId }, startAfter: later }];
  await queue().insert(WEBHOOK_STATE_QUEUE, jobs, { db: fromPrisma(tx) });
}

/** The job: converges a webhook's deliveries step by step, each step its own transaction. */
export async function convergeAll(webhookId: string): Promise<number> {
  let total = 0;
  for (;;) {
    const changed = await db().$transaction((tx) => converge(tx, webhookId, CONVERGE_STEP), { timeout: 60_000 });
    total += changed;
    if (changed < CONVERGE_STEP) return total;
  }
}

/** Cancels what a webhook holds (PAUSED), in steps; the webhook stays as it is. Answers how many. */
export async function discardHeld(webhookId: string): Promise<number> {
  let total = 0;
  for (;;) {
    const discarded = await db().$queryRaw<unknown[]>(sql.discardHeld(webhookId, CONVERGE_STEP));
    total += discarded.length;
    if (discarded.length < CONVERGE_STEP) return total;
  }
}
