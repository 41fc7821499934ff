import type { InstanceStatus, Prisma } from '../generated/prisma/client.ts';
import { conflict, notFound } from '../rules/errors.ts';
import { Problems } from '../rules/problems.ts';
import { isUuid } from '../rules/values.ts';
import { cancel, countRequeueable, instanceIds, requeue, tenantInstance } from '../store/instances.ts';
import { findWebhook } from './webhooks.ts';

/** `topic.action`: two identifiers (IDENTIFIER). */
const EVENT_TYPE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

/** What deliveries may be selected by (instances, retriggerInstances). */
export interface InstanceFilter {
  webhookId?: string | number | null;
  statuses?: InstanceStatus[] | null;
  eventId?: string | number | null;
  entityId?: string | null;
  /** `topic.action`. */
  eventType?: string | null;
  since?: Date | null;
  until?: Date | null;
  updatedSince?: Date | null;
}

/** A tenant's deliveries matching a filter (an id that is not a UUID matches none); an event type not shaped `topic.action` is refused. */
export function instanceWhere(tenantId: string, f: InstanceFilter): Prisma.InstanceWhereInput {
  const problems = new Problems();
  if (f.eventType) problems.check(EVENT_TYPE.test(f.eventType), 'filter.eventType', `must be one event type, topic.action, such as course.created (got ${JSON.stringify(f.eventType.slice(0, 80))})`);
  problems.throwIfAny();
  const uuidOrNone = (v: string | number) => (isUuid(String(v)) ? String(v) : '00000000-0000-0000-0000-000000000000');
  return {
    tenantId,
    ...(f.webhookId ? { webhookId: uuidOrNone(f.webhookId) } : {}),
    ...(f.statuses?.length ? { status: { in: f.statuses } } : {}),
    ...(f.eventId ? { eventId: uuidOrNone(f.eventId) } : {}),
    ...(f.entityId ? { entityId: f.entityId } : {}),
    ...(f.eventType ? { eventType: f.eventType } : {}),
    ...(f.since || f.until ? { createdAt: { ...(f.since ? { gte: f.since } : {}), ...(f.until ? { lt: f.until } : {}) } } : {}),
    ...(f.updatedSince ? { updatedAt: { gte: f.updatedSince } } : {}),
  };
}

/** One of the tenant's deliveries, or NOT_FOUND (another tenant's too). */
export async function findInstance(tenantId: string, id: string) {
  const instance = isUuid(id) ? await tenantInstance(tenantId, id) : null;
  if (!instance) throw notFound('instance', id);
  return instance;
}

/** Sends a delivery again now, whatever its status and attempts (MANUAL); one with nothing to send is refused. */
export async function retrigger(tenantId: string, id: string): Promise<void> {
  const instance = await findInstance(tenantId, id);
  if (!(instance.payload as { url?: unknown } | null)?.url) {
    throw conflict(`this delivery has nothing to send: its payload could not be rendered when its event was published (${instance.lastMessage ?? 'no reason recorded'}); fix the webhook and publish the event again`);
  }
  await requeue([id]);
}

/** Sends a webhook's deliveries matching the filter again (up to 100,000); answers how many (with dryRun: how many it would, sending none). */
export async function retriggerMany(tenantId: string, filter: InstanceFilter & { webhookId: string | number }, dryRun = false): Promise<number> {
  await findWebhook(tenantId, String(filter.webhookId));
  const ids = await instanceIds(instanceWhere(tenantId, filter), 100_000);
  return dryRun ? countRequeueable(ids) : requeue(ids);
}

/** Cancels one of the tenant's deliveries that was not delivered yet. */
export async function cancelInstance(tenantId: string, id: string): Promise<void> {
  await findInstance(tenantId, id);
  await cancel(id);
}
