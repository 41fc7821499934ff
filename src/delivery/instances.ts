import { db, type Tx } from '../db/client.ts';
import type { AttemptTrigger, Instance, Webhook } from '../generated/prisma/client.ts';
import { enqueueDeliveries } from '../queue/boss.ts';
import { notify, NOTIFY_CHANGED_INSTANCES } from '../pubsub/changes.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { backoffDelay, retryAfterMs } from './backoff.ts';
import type { Outcome } from './sender.ts';
import { releaseNext } from './ordering.ts';

/**
 * The one place that changes an instance's status. Every change goes through
 * here, so later layers (live subscriptions) have a single place to hook in.
 */

/**
 * Takes an instance for sending: PENDING or RETRYING. A job that runs again
 * (`takeOver`: its worker died or failed before recording) may also take an
 * instance left SENDING, which is how a crash mid-send is recovered.
 */
export async function claim(instanceId: string, takeOver = false): Promise<(Instance & { webhook: Webhook }) | null> {
  const rows = await db().$queryRaw<Array<{ id: string }>>`
    WITH changed AS (
      UPDATE instance SET status = 'SENDING', attempts = attempts + 1, next_attempt_at = NULL, updated_at = now()
      WHERE id = ${instanceId}::uuid
        AND (status IN ('PENDING', 'RETRYING') OR (${takeOver} AND status = 'SENDING'))
      RETURNING id, tenant_id, webhook_id, status)
    ${NOTIFY_CHANGED_INSTANCES}`;
  if (rows.length === 0) return null;
  return db().instance.findUniqueOrThrow({ where: { id: instanceId }, include: { webhook: true } });
}

export interface Settlement {
  instance: Instance & { webhook: Webhook };
  trigger: AttemptTrigger;
  startedAt: Date;
  request: unknown;
  outcome: Outcome;
  deactivateAfterFailures: number;
  minBackoffMs: number;
}

/** Records an attempt and moves the instance on: COMPLETED, RETRYING (with a job for later) or FAILED. */
export async function settle(s: Settlement): Promise<Instance> {
  const { instance, outcome } = s;
  const webhook = instance.webhook;
  const now = new Date();
  const gone = outcome.statusCode === 410;
  const retry = !outcome.ok && !gone && s.trigger === 'AUTO' && instance.attempts < webhook.maxAttempts;
  let nextAttemptAt: Date | null = null;
  if (retry) {
    const asked = outcome.statusCode === 429 || outcome.statusCode === 503 ? retryAfterMs(outcome.retryAfter, now) : null;
    const delay = asked !== null ? Math.min(Math.max(asked, s.minBackoffMs), 86_400_000) : backoffDelay(instance.attempts, webhook.backoffBaseMs, webhook.backoffCapMs);
    nextAttemptAt = new Date(now.getTime() + delay);
  }
  const status = outcome.ok ? 'COMPLETED' : retry ? 'RETRYING' : 'FAILED';
  return db().$transaction(async (tx) => {
    await tx.attempt.create({ data: { instanceId: instance.id, ...attemptOf(outcome, instance.attempts, s.trigger, s.startedAt) } });
    const updated = await tx.instance.update({
      where: { id: instance.id },
      data: { status, nextAttemptAt, request: s.request as never, ...lastOf(outcome) },
    });
    await notify(tx, [{ k: 'instance', t: instance.tenantId, id: instance.id, w: webhook.id, s: status, ...(nextAttemptAt ? { n: nextAttemptAt.toISOString() } : {}) }]);
    if (retry) await enqueueDeliveries(tx, [{ instanceId: instance.id, trigger: 'AUTO', startAfter: nextAttemptAt! }]);
    if (status !== 'RETRYING' && webhook.orderedDelivery) await releaseNext(tx, webhook.id, instance.entityId);
    if (gone) {
      await deactivate(tx, webhook.id, `the receiver answered 410 Gone on ${now.toISOString()}`);
    } else if (status === 'COMPLETED' && webhook.consecutiveFailures > 0) {
      await tx.webhook.update({ where: { id: webhook.id }, data: { consecutiveFailures: 0 } });
    } else if (status === 'FAILED') {
      const { consecutiveFailures } = await tx.webhook.update({
        where: { id: webhook.id },
        data: { consecutiveFailures: { increment: 1 } },
        select: { consecutiveFailures: true },
      });
      if (consecutiveFailures >= s.deactivateAfterFailures && webhook.active) {
        await deactivate(tx, webhook.id, `${consecutiveFailures} deliveries in a row failed (the last: ${outcome.message.slice(0, 200)})`);
      }
    }
    return updated;
  });
}

/** An attempt row's fields for an outcome. */
export function attemptOf(outcome: Outcome, number: number, trigger: AttemptTrigger, startedAt: Date) {
  const { durationMs, statusCode, errorKind, message, responseBody, location } = outcome;
  return { number, trigger, startedAt, durationMs, statusCode, errorKind, message, responseBody, location };
}

/** An instance's "last attempt" fields for an outcome. */
export function lastOf(outcome: Outcome) {
  return { lastStatusCode: outcome.statusCode, lastMessage: outcome.message, lastDurationMs: outcome.durationMs, lastErrorKind: outcome.errorKind };
}

/** Turns a webhook off with a reason a person can read, and cancels what it has pending. */
export async function deactivate(tx: Tx, webhookId: string, reason: string): Promise<void> {
  const webhook = await tx.webhook.update({ where: { id: webhookId }, data: { active: false, deactivatedReason: reason, deactivatedAt: new Date() } });
  await cancelPending(tx, webhookId);
  await notify(tx, [{ k: 'webhook', t: webhook.tenantId, id: webhookId }]);
}

export async function cancelPending(tx: Tx, webhookId: string): Promise<number> {
  return cancelWhere(tx, Prisma.sql`webhook_id = ${webhookId}::uuid`, 'cancelled: the webhook was deactivated or deleted');
}

/** Cancels one instance that has not been delivered yet (letting the next of its entity go, when ordered). */
export async function cancel(instanceId: string): Promise<Instance | null> {
  return db().$transaction(async (tx) => {
    const count = await cancelWhere(tx, Prisma.sql`id = ${instanceId}::uuid`, 'cancelled by a person');
    if (!count) return null;
    const instance = await tx.instance.findUniqueOrThrow({ where: { id: instanceId }, include: { webhook: { select: { orderedDelivery: true } } } });
    if (instance.webhook.orderedDelivery) await releaseNext(tx, instance.webhookId, instance.entityId);
    return instance;
  });
}

async function cancelWhere(client: Tx, where: Prisma.Sql, message: string): Promise<number> {
  const rows = await client.$queryRaw<unknown[]>`
    WITH changed AS (
      UPDATE instance SET status = 'CANCELLED', next_attempt_at = NULL, last_message = ${message}, updated_at = now()
      WHERE ${where} AND status IN ('PENDING', 'RETRYING')
      RETURNING id, tenant_id, webhook_id, status)
    ${NOTIFY_CHANGED_INSTANCES}`;
  return rows.length;
}

/** Sends instances again now, whatever their status and attempts (trigger MANUAL). */
export async function requeue(instanceIds: string[]): Promise<number> {
  if (instanceIds.length === 0) return 0;
  return db().$transaction(async (tx) => {
    const ready = await tx.$queryRaw<Array<{ id: string }>>`
      WITH changed AS (
        UPDATE instance SET status = 'PENDING', held = false, next_attempt_at = NULL, updated_at = now()
        WHERE id = ANY(${instanceIds}::uuid[]) AND status <> 'SENDING'
        RETURNING id, tenant_id, webhook_id, status)
      ${NOTIFY_CHANGED_INSTANCES}`;
    await enqueueDeliveries(tx, ready.map((r) => ({ instanceId: r.id, trigger: 'MANUAL' as const })));
    return ready.length;
  });
}
