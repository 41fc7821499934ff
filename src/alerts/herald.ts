import { fromPrisma } from 'pg-boss';
import { db, type Tx } from '../db/client.ts';
import type { FieldType } from '../generated/prisma/client.ts';
import { queue } from '../queue/boss.ts';

/**
 * Herald's own happenings as events of a built-in, read-only topic in every tenant
 * (`herald`), so people subscribe to them with ordinary webhooks, conditions and
 * templates: a Slack- or Teams-shaped JSON template alerts a channel. They are raised
 * in the transaction of what they tell (a queued job, so they exist if and only if it
 * committed) and published by that job like any event, signed and delivered alike.
 *
 * They cannot loop: a delivery of a webhook that takes herald events never raises
 * `instance_failed`, and the webhook events are raised once per change of state.
 */
export const HERALD_TOPIC = 'herald';
export const HERALD_ACTIONS = ['webhook_deactivated', 'webhook_failing', 'webhook_recovered', 'instance_failed', 'webhook_paused', 'webhook_resumed'] as const;
export type HeraldAction = (typeof HERALD_ACTIONS)[number];
export const ALERT_QUEUE = 'herald-event';

const FIELDS: Array<{ path: string; label: string; type: FieldType; mergeTag: string }> = [
  { path: 'webhookId', label: 'Webhook id', type: 'STRING', mergeTag: '@@WebhookId' },
  { path: 'webhookLabel', label: 'Webhook', type: 'STRING', mergeTag: '@@WebhookLabel' },
  { path: 'url', label: 'Endpoint', type: 'STRING', mergeTag: '@@WebhookUrl' },
  { path: 'state', label: 'State', type: 'ENUM', mergeTag: '@@WebhookState' },
  { path: 'reason', label: 'Reason', type: 'STRING', mergeTag: '@@Reason' },
  { path: 'consecutiveFailures', label: 'Failed deliveries in a row', type: 'INTEGER', mergeTag: '@@ConsecutiveFailures' },
  { path: 'failingSince', label: 'Failing since', type: 'DATETIME', mergeTag: '@@FailingSince' },
  { path: 'heldDeliveries', label: 'Held deliveries', type: 'INTEGER', mergeTag: '@@HeldDeliveries' },
  { path: 'instanceId', label: 'Delivery id', type: 'STRING', mergeTag: '@@InstanceId' },
  { path: 'eventType', label: "Delivery's event type", type: 'STRING', mergeTag: '@@DeliveryEventType' },
  { path: 'attempts', label: 'Attempts', type: 'INTEGER', mergeTag: '@@Attempts' },
  { path: 'lastStatusCode', label: 'Last status code', type: 'INTEGER', mergeTag: '@@LastStatusCode' },
  { path: 'lastErrorKind', label: 'Last error kind', type: 'STRING', mergeTag: '@@LastErrorKind' },
  { path: 'lastMessage', label: 'Last answer or error', type: 'STRING', mergeTag: '@@LastMessage' },
];
const STATES = ['ACTIVE', 'PAUSED', 'DISABLED'];

/** The built-in topic as a tenant's nested create (a new tenant gets it with its first key). */
export function builtInTopics() {
  return {
    create: [
      {
        key: HERALD_TOPIC,
        name: 'Herald',
        description: 'What Herald itself does: webhooks paused, failing and recovered, deliveries that failed for good. Built in and read-only.',
        customActions: [...HERALD_ACTIONS],
        builtIn: true,
        fields: { create: FIELDS.map((f, position) => ({ ...f, position, values: f.type === 'ENUM' ? STATES : [] })) },
      },
    ],
  };
}

/** Gives every tenant that lacks it the built-in topic (tenants made before it existed); start-up runs it. */
export async function ensureBuiltInTopics(): Promise<number> {
  const missing = await db().tenant.findMany({ where: { topics: { none: { key: HERALD_TOPIC } } }, select: { id: true } });
  for (const tenant of missing) {
    await db()
      .tenant.update({ where: { id: tenant.id }, data: { topics: builtInTopics() } })
      .catch((error: unknown) => {
        // Another process starting at the same time made it first.
        if ((error as { code?: string }).code !== 'P2002') throw error;
      });
  }
  return missing.length;
}

export interface Alert {
  tenantId: string;
  action: HeraldAction;
  webhookId: string;
  instanceId?: string;
  /** What Herald says happened, when the webhook row does not say it (a pause's reason is on the webhook). */
  reason?: string;
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
  >`
    SELECT w.label, w.url, w.active, w.paused_at IS NOT NULL AS paused, w.deactivated_reason AS reason, w.consecutive_failures AS failures, w.failing_since,
      (SELECT count(*)::int FROM instance i WHERE i.webhook_id = w.id AND i.status = 'PAUSED') AS held
    FROM webhook w WHERE w.id = ${alert.webhookId}::uuid AND w.tenant_id = ${alert.tenantId}::uuid`;
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
