import { inOneTrip, type Tx } from '../db/client.ts';
import { uuidv7 } from '../db/ids.ts';
import type { Event, Instance, Prisma } from '../generated/prisma/client.ts';
import { enqueueDeliveries, enqueueStatements, type NewDelivery } from '../queue/boss.ts';
import { eventType, type EventShape } from '../rules/eventShape.ts';
import { RenderError, type RenderedPayload } from '../rules/payload.ts';
import { lockEntity, onItsWay } from './ordering.ts';
import * as sql from './sql/events.ts';
import { announceAll } from './sql/instances.ts';
import { instanceChange, type Change } from '../pubsub/changes.ts';

/**
 * The one place new deliveries are made (publish, replay, a closing batch, the Test
 * button): their first status, from their webhook's state, and how they are stored
 * (with the new events they carry), announced and given jobs.
 */

/** A delivery's webhook, as far as a new delivery's first status depends on it. */
export interface DeliveryTarget {
  id: string;
  /** Paused: the delivery is held (PAUSED) until the webhook resumes. */
  paused?: boolean;
  /** Turned off or deleted (a batch closing after it was): the delivery is CANCELLED. */
  off?: boolean;
  /** Its circuit is open: the delivery waits parked, without a job, until a probe gets through. */
  circuitOpen?: boolean;
  /** Ordered: the delivery is held behind its entity's earlier one still on its way. */
  orderedDelivery?: boolean;
}

/**
 * A new delivery of `event` to the webhook: PENDING, PAUSED (paused webhook), CANCELLED
 * (webhook off), parked (circuit open), or FAILED at once when its payload did not render.
 */
export function newDelivery(
  tenantId: string,
  webhook: DeliveryTarget,
  event: Pick<EventShape, 'id' | 'topic' | 'action' | 'entityId'>,
  payload: RenderedPayload | RenderError,
  createdAt: Date,
): Instance {
  const base: Instance = {
    id: uuidv7(),
    tenantId,
    webhookId: webhook.id,
    eventId: event.id,
    eventType: eventType(event),
    entityId: event.entityId,
    status: webhook.paused ? 'PAUSED' : 'PENDING',
    held: false,
    parked: !webhook.paused && !!webhook.circuitOpen,
    attempts: 0,
    nextAttemptAt: null,
    payload: {},
    request: null,
    lastStatusCode: null,
    lastMessage: null,
    lastDurationMs: null,
    lastErrorKind: null,
    createdAt,
    updatedAt: createdAt,
  };
  if (webhook.off) return { ...base, status: 'CANCELLED', parked: false, lastMessage: 'cancelled: the webhook was turned off or deleted' };
  if (payload instanceof RenderError) return { ...base, status: 'FAILED', parked: false, lastMessage: payload.message, lastErrorKind: 'RENDER' };
  return { ...base, payload: payload as unknown as Instance['payload'] };
}

/** A new event as stored: what was published, its idempotency key (if any), when. */
export function newEvent(tenantId: string, e: EventShape, idempotencyKey: string | null, createdAt: Date): Event {
  return {
    id: e.id,
    tenantId,
    topic: e.topic,
    action: e.action,
    entityId: e.entityId,
    data: (e.data ?? null) as Event['data'],
    previous: (e.previous ?? null) as Event['previous'],
    changedFields: e.changedFields ?? [],
    actor: (e.actor ?? null) as Event['actor'],
    clientId: e.clientId,
    correlationId: e.correlationId,
    idempotencyKey,
    occurredAt: e.occurredAt,
    createdAt,
    sharedBody: null,
  };
}

/** How the jobs of new deliveries run: what started them, and whether they wait behind fresh work (a bulk replay). */
export type JobOptions = Pick<NewDelivery, 'trigger' | 'background' | 'trace'>;

/** Jobs for the deliveries that may go now (PENDING, neither held for order nor parked). */
export function jobsFor(instances: Instance[], options: JobOptions): NewDelivery[] {
  return instances.filter((i) => i.status === 'PENDING' && !i.held && !i.parked).map((i) => ({ ...options, instanceId: i.id, tenantId: i.tenantId, webhookId: i.webhookId }));
}

/**
 * Stores new deliveries (and the new events they carry, if any) in the caller's
 * transaction: those of ordered webhooks held behind their entity's earlier ones, the
 * rows and their announcement in one statement, then the jobs of those that may go now.
 */
export async function createDeliveries(tx: Tx, made: { events?: Event[]; instances: Instance[]; webhooks: DeliveryTarget[]; job: JobOptions }): Promise<void> {
  await holdOrdered(tx, made.instances, made.webhooks);
  if (made.events?.length || made.instances.length) await tx.$executeRaw(sql.store(made.events ?? [], made.instances));
  await enqueueDeliveries(tx, jobsFor(made.instances, made.job));
}

/**
 * The same in one round trip, in a transaction of its own: for new events whose webhooks are not ordered (nothing to hold).
 * They are announced once committed, in the same round trip, so that publishes do not wait for each other's disk writes.
 */
export async function createDeliveriesInOneTrip(events: Event[], instances: Instance[], job: JobOptions): Promise<void> {
  const jobs = jobsFor(instances, job);
  const statements = [...(events.length || instances.length ? [sql.store(events, instances, { announced: true })] : []), ...(jobs.length ? await enqueueStatements(jobs) : [])];
  const changes = [...events.map((e): Change => ({ k: 'event', t: e.tenantId, id: e.id, topic: e.topic })), ...instances.map(instanceChange)];
  await inOneTrip(statements.map(({ text, values }) => ({ text, values })), { after: changes.length ? [announceAll(changes)] : [] });
}

/** Records an attempt made outside the worker (the Test button's), in the caller's transaction. */
export async function recordAttempt(tx: Tx, instanceId: string, attempt: Omit<Prisma.AttemptUncheckedCreateInput, 'instanceId'>): Promise<void> {
  await tx.attempt.create({ data: { ...attempt, instanceId } });
}

/**
 * Ordered webhooks: a delivery waits (held, no job) while an earlier one of the same
 * entity is on its way, including earlier ones made together with it.
 */
async function holdOrdered(tx: Tx, instances: Instance[], webhooks: DeliveryTarget[]): Promise<void> {
  const ordered = new Set(webhooks.filter((w) => w.orderedDelivery).map((w) => w.id));
  const busy = new Map<string, boolean>();
  const pairs = [...new Set(instances.filter((i) => ordered.has(i.webhookId) && i.status === 'PENDING').map((i) => `${i.webhookId}\u0000${i.entityId}`))].sort();
  for (const pair of pairs) {
    const [webhookId, entityId] = pair.split('\u0000') as [string, string];
    await lockEntity(tx, webhookId, entityId);
    busy.set(pair, await onItsWay(tx, webhookId, entityId));
  }
  for (const instance of instances) {
    const pair = `${instance.webhookId}\u0000${instance.entityId}`;
    if (!busy.has(pair) || instance.status !== 'PENDING') continue;
    instance.held = busy.get(pair)!;
    busy.set(pair, true);
  }
}
