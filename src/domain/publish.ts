import { db, type Tx } from '../db/client.ts';
import { uuidv7 } from '../db/ids.ts';
import type { Event, Instance, Prisma } from '../generated/prisma/client.ts';
import { enqueueDeliveries } from '../queue/boss.ts';
import { notify } from '../pubsub/changes.ts';
import { lockEntity, onItsWay } from '../delivery/ordering.ts';
import { addToBatches } from '../delivery/batching.ts';
import { loadTopics } from './catalog.ts';
import { evaluate } from './conditions.ts';
import type { EventShape } from './event.ts';
import { checkEvent, wants, type EventInput } from './events.ts';
import { renderPayload, RenderError } from './payload.ts';
import { Problems } from './problems.ts';
import { isUniqueViolation } from './topics.ts';
import { treeOf } from './webhooks.ts';

export interface PublishInput extends EventInput {
  idempotencyKey?: string | null;
}

export interface Published {
  event: Event;
  instances: Instance[];
  /** The idempotency key was seen before: this is the first event, and nothing was sent again. */
  duplicate: boolean;
}

export const MAX_BATCH = 1000;

/**
 * Publishes events: matches them against the tenant's active webhooks, renders each
 * payload, and stores the events, one instance per matching webhook and one delivery
 * job per instance in one transaction. Once this returns, nothing is lost.
 */
export async function publishEvents(tenantId: string, inputs: PublishInput[], limits: { maxEventBytes: number }, at = 'inputs'): Promise<Published[]> {
  const problems = new Problems();
  if (inputs.length === 0 || inputs.length > MAX_BATCH) problems.add(at, `publish 1 to ${MAX_BATCH} events at once (got ${inputs.length})`);
  const topics = await loadTopics(tenantId);
  const events = inputs.map((input, i) => {
    const where = inputs.length === 1 && at === 'input' ? 'input' : `${at}[${i}]`;
    const event = checkEvent(problems, where, input, topics);
    const size = Buffer.byteLength(JSON.stringify([input.data ?? null, input.previous ?? null]));
    if (size > limits.maxEventBytes) problems.add(`${where}.data`, `the event's data is ${size} bytes; at most ${limits.maxEventBytes} are allowed (HERALD_MAX_EVENT_BYTES)`);
    const key = input.idempotencyKey?.trim() || null;
    if (key && key.length > 200) problems.add(`${where}.idempotencyKey`, 'must be at most 200 characters');
    return { shape: { ...event, id: uuidv7() }, key };
  });
  const keys = events.map((e) => e.key).filter((k): k is string => k !== null);
  if (new Set(keys).size !== keys.length) problems.add(at, 'two events in one call share an idempotency key');
  problems.throwIfAny();

  const webhooks = await db().webhook.findMany({
    where: { tenantId, active: true, deletedAt: null, topics: { hasSome: [...new Set(events.map((e) => e.shape.topic))] } },
    include: { conditions: true },
  });
  const now = new Date();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await db().$transaction(async (tx) => {
        const seen = keys.length
          ? await tx.event.findMany({ where: { tenantId, idempotencyKey: { in: keys } }, include: { instances: true } })
          : [];
        const byKey = new Map(seen.map((e) => [e.idempotencyKey!, e]));
        const fresh = events.filter((e) => !e.key || !byKey.has(e.key));
        const rows: Prisma.EventCreateManyInput[] = fresh.map(({ shape, key }) => eventRow(tenantId, shape, key));
        const instances: Prisma.InstanceCreateManyInput[] = [];
        const batched: Parameters<typeof addToBatches>[1] = [];
        for (const { shape } of fresh) {
          for (const webhook of webhooks) {
            if (!wants(webhook.eventTypes, shape.topic, shape.action)) continue;
            if (!evaluate(treeOf(webhook.conditions, webhook.conditionMatch), shape, now).matched) continue;
            if (webhook.batchWindowMs) batched.push({ webhook, eventId: shape.id });
            else instances.push(instanceRow(tenantId, webhook, shape, topics.get(shape.topic)!));
          }
        }
        await holdOrdered(tx, instances, webhooks);
        if (rows.length) await tx.event.createMany({ data: rows });
        if (instances.length) await tx.instance.createMany({ data: instances });
        await addToBatches(tx, batched);
        await enqueueDeliveries(
          tx,
          instances.filter((i) => i.status !== 'FAILED' && !i.held).map((i) => ({ instanceId: i.id!, trigger: 'AUTO' as const })),
        );
        await notify(tx, [
          ...rows.map((r) => ({ k: 'event' as const, t: tenantId, id: r.id!, topic: r.topic })),
          ...instances.map((i) => ({ k: 'instance' as const, t: tenantId, id: i.id!, w: i.webhookId, s: i.status! })),
        ]);
        const created = new Map<string, Instance[]>();
        const stored = await tx.instance.findMany({ where: { eventId: { in: rows.map((r) => r.id!) } } });
        for (const instance of stored) created.set(instance.eventId, [...(created.get(instance.eventId) ?? []), instance]);
        const storedEvents = new Map((await tx.event.findMany({ where: { id: { in: rows.map((r) => r.id!) } } })).map((e) => [e.id, e]));
        return events.map(({ shape, key }) => {
          const previous = key ? byKey.get(key) : undefined;
          if (previous) return { event: previous, instances: previous.instances, duplicate: true };
          return { event: storedEvents.get(shape.id)!, instances: created.get(shape.id) ?? [], duplicate: false };
        });
      });
    } catch (error) {
      // Another call stored the same idempotency key first: read its event.
      if (isUniqueViolation(error) && attempt < 3) continue;
      throw error;
    }
  }
}

/**
 * Ordered webhooks: an instance waits (held, no job) while an earlier one of the same
 * entity is on its way, including earlier ones in this same publish.
 */
async function holdOrdered(tx: Tx, instances: Prisma.InstanceCreateManyInput[], webhooks: Array<{ id: string; orderedDelivery: boolean }>) {
  const ordered = new Set(webhooks.filter((w) => w.orderedDelivery).map((w) => w.id));
  const busy = new Map<string, boolean>();
  const pairs = [...new Set(instances.filter((i) => ordered.has(i.webhookId) && i.status !== 'FAILED').map((i) => `${i.webhookId}\u0000${i.entityId}`))].sort();
  for (const pair of pairs) {
    const [webhookId, entityId] = pair.split('\u0000') as [string, string];
    await lockEntity(tx, webhookId, entityId);
    busy.set(pair, await onItsWay(tx, webhookId, entityId));
  }
  for (const instance of instances) {
    const pair = `${instance.webhookId}\u0000${instance.entityId}`;
    if (!busy.has(pair) || instance.status === 'FAILED') continue;
    instance.held = busy.get(pair)!;
    busy.set(pair, true);
  }
}

function eventRow(tenantId: string, e: EventShape, idempotencyKey: string | null): Prisma.EventCreateManyInput {
  return {
    id: e.id,
    tenantId,
    topic: e.topic,
    action: e.action,
    entityId: e.entityId,
    data: (e.data ?? undefined) as never,
    previous: (e.previous ?? undefined) as never,
    changedFields: e.changedFields ?? [],
    actor: (e.actor ?? undefined) as never,
    clientId: e.clientId,
    correlationId: e.correlationId,
    idempotencyKey,
    occurredAt: e.occurredAt,
  };
}

type MatchedWebhook = { id: string; url: string; method: any; payloadMode: any; selectedFields: string[]; template: string | null; templateFormat: any };

/** An instance with its rendered payload; a payload that cannot render fails the instance at once, visibly. */
export function instanceRow(tenantId: string, webhook: MatchedWebhook, event: EventShape, topic: Parameters<typeof renderPayload>[2]): Prisma.InstanceCreateManyInput {
  const base = { id: uuidv7(), tenantId, webhookId: webhook.id, eventId: event.id, entityId: event.entityId };
  try {
    const payload = renderPayload({ ...webhook, mode: webhook.payloadMode }, event, topic);
    return { ...base, status: 'PENDING', payload: payload as never };
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    return { ...base, status: 'FAILED', payload: {}, lastMessage: error.message, lastErrorKind: 'RENDER' };
  }
}


