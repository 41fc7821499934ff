import { fromPrisma } from 'pg-boss';
import { db, type Tx } from '../db/client.ts';
import { builtInTopics, HERALD_TOPIC, type Alert } from '../rules/heraldTopic.ts';
import { ALERT_QUEUE, queue } from '../queue/boss.ts';
import { alertFacts } from './sql/webhooks.ts';
import { isUniqueViolation } from './errors.ts';

/** Raising Herald's own events (rules/heraldTopic.ts) in a transaction, and reading what they tell. */

/** Gives every tenant that lacks it the built-in topic (tenants made before it existed); start-up runs it. */
export async function ensureBuiltInTopics(): Promise<number> {
  const missing = await db().tenant.findMany({ where: { topics: { none: { key: HERALD_TOPIC } } }, select: { id: true } });
  for (const tenant of missing) {
    await db()
      .tenant.update({ where: { id: tenant.id }, data: { topics: builtInTopics() } })
      .catch((error: unknown) => {
        // Another process starting at the same time made it first.
        if (!isUniqueViolation(error)) throw error;
      });
  }
  return missing.length;
}

/** Raises alerts inside the transaction of what they tell: a job publishes each once it commits. */
export async function raise(tx: Tx, alerts: Alert[]): Promise<void> {
  if (alerts.length === 0) return;
  await queue().insert(
    ALERT_QUEUE,
    alerts.map((alert) => ({ data: alert })),
    { db: fromPrisma(tx) },
  );
}

/**
 * What an alert's event carries, read when it is published: the webhook as it is then
 * (label, endpoint, state, failure count, what it holds) and the delivery, if any.
 */
export async function alertEvent(alert: Alert, jobId: string) {
  const [webhook] = await db().$queryRaw<
    Array<{ label: string; url: string; active: boolean; paused: boolean; reason: string | null; failures: number; failing_since: Date | null; held: number }>
  >(alertFacts(alert.tenantId, alert.webhookId));
  if (!webhook) return null;
  const instance = alert.instanceId
    ? await db().instance.findUnique({ where: { id: alert.instanceId }, include: { event: { select: { topic: true, action: true } } } })
    : null;
  const data = {
    webhookId: alert.webhookId,
    webhookLabel: webhook.label,
    url: webhook.url,
    state: webhook.active ? 'ACTIVE' : webhook.paused ? 'PAUSED' : 'DISABLED',
    reason: alert.reason ?? webhook.reason,
    consecutiveFailures: webhook.failures,
    failingSince: webhook.failing_since?.toISOString() ?? null,
    heldDeliveries: webhook.held,
    ...(instance
      ? {
          instanceId: instance.id,
          eventType: `${instance.event.topic}.${instance.event.action}`,
          attempts: instance.attempts,
          lastStatusCode: instance.lastStatusCode,
          lastErrorKind: instance.lastErrorKind,
          lastMessage: instance.lastMessage,
        }
      : {}),
  };
  return { topic: HERALD_TOPIC, action: alert.action, entityId: alert.webhookId, data, actor: { type: 'system' }, idempotencyKey: `herald:${jobId}` };
}
