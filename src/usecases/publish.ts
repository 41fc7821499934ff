import { uuidv7 } from '../db/ids.ts';
import type { Event, Instance } from '../generated/prisma/client.ts';
import { addToBatches } from '../store/batches.ts';
import { catalogFor } from '../store/catalog.ts';
import { eventsByKeys } from '../store/events.ts';
import { inTransaction } from '../store/transaction.ts';
import { createDeliveries, createDeliveriesInOneTrip, newDelivery, newEvent } from '../store/deliveries.ts';
import { checkEvent, type EventInput } from '../rules/events.ts';
import { keepBodiesOnce, RenderError, type RenderedPayload } from '../rules/payload.ts';
import { deadlineForRequest, render } from '../render/pool.ts';
import { Problems } from '../rules/problems.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { HERALD_TOPIC } from '../rules/heraldTopic.ts';
import { HeraldError, InputError, rateLimited } from '../rules/errors.ts';
import { returnTokens, takeTokens, type Taken } from '../store/publishBuckets.ts';
import type { Config } from '../config.ts';
import { metrics } from '../telemetry/metrics.ts';
import { currentTraceparent, inSpan, SpanKind } from '../telemetry/tracing.ts';

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

/** What bounds a publish call: an event's size, the tenant's publish limit (the server's, unless it has its own), the deliveries one call may create. */
export type PublishLimits = Pick<Config, 'maxEventBytes' | 'publishRate' | 'publishBurst' | 'maxDeliveriesPerCall'>;

/**
 * Publishes events: matches, renders, and stores the events, their instances and jobs in one transaction; once this returns,
 * nothing is lost.
 */
export async function publishEvents(...args: Parameters<typeof publish>): Promise<Published[]> {
  let published: Published[];
  try {
    published = await inSpan('herald.publish', SpanKind.PRODUCER, { 'herald.tenant_id': args[0], 'herald.events': args[1].length }, async (span) => {
      const stored = await publish(...args);
      span?.setAttribute('herald.deliveries', stored.reduce((n, p) => n + p.instances.length, 0));
      return stored;
    });
  } catch (error) {
    metrics.published(error instanceof InputError ? 'refused' : error instanceof HeraldError && error.code === 'RATE_LIMITED' ? 'limited' : 'error');
    throw error;
  }
  const fresh = published.filter((p) => !p.duplicate);
  metrics.published('ok', { events: fresh.length, deliveries: fresh.flatMap((p) => p.instances) });
  return published;
}

async function publish(
  tenantId: string,
  inputs: PublishInput[],
  limits: PublishLimits,
  at = 'inputs',
  { internal = false }: { internal?: boolean } = {},
): Promise<Published[]> {
  const problems = new Problems();
  if (inputs.length === 0 || inputs.length > MAX_BATCH) problems.add(at, `publish 1 to ${MAX_BATCH} events at once (got ${inputs.length})`);
  // The call's tokens first: the same statement reads the catalog's version, so a publish makes two round trips in all.
  const bucket = internal || inputs.length === 0 ? undefined : await takeTokens(tenantId, inputs.length, { rate: limits.publishRate, burst: limits.publishBurst });
  try {
    return await publishAdmitted(tenantId, inputs, limits, at, internal, problems, bucket);
  } catch (error) {
    // Refused after all (its input, or what it would create): what it took goes back.
    if (bucket?.taken) await returnTokens(tenantId, inputs.length, { burst: limits.publishBurst }).catch(() => undefined);
    throw error;
  }
}

async function publishAdmitted(tenantId: string, inputs: PublishInput[], limits: PublishLimits, at: string, internal: boolean, problems: Problems, bucket: Taken | undefined): Promise<Published[]> {
  // The topics, and the webhooks of those named (unknown topics are refused below and match none).
  const { topics, matchers } = await catalogFor(tenantId, [...new Set(inputs.map((i) => i.topic))], bucket?.catalogVersion);
  const events = inputs.map((input, i) => {
    const where = inputs.length === 1 && at === 'input' ? 'input' : `${at}[${i}]`;
    // Only Herald raises the events of its own topic (alerts.ts).
    if (input.topic === HERALD_TOPIC && !internal) problems.add(`${where}.event.topic`, `"${HERALD_TOPIC}" events are raised by Herald itself (webhooks paused, failing, recovered; deliveries failed); publish your own topics`);
    const event = checkEvent(problems, `${where}.event`, input, topics);
    const size = Buffer.byteLength(JSON.stringify([input.data ?? null, input.previous ?? null]));
    if (size > limits.maxEventBytes) problems.add(`${where}.event.data`, `the event's data is ${size} bytes; at most ${limits.maxEventBytes} are allowed (HERALD_MAX_EVENT_BYTES)`);
    const key = input.idempotencyKey?.trim() || null;
    if (key && key.length > 200) problems.add(`${where}.idempotencyKey`, 'must be at most 200 characters');
    return { shape: { ...event, id: uuidv7() }, key };
  });
  const keys = events.map((e) => e.key).filter((k): k is string => k !== null);
  if (new Set(keys).size !== keys.length) problems.add(at, 'two events in one call share an idempotency key');
  problems.throwIfAny();

  const now = new Date();
  // Which webhooks take each event, and their payloads, rendered before any transaction
  // opens (templates on render threads, under one deadline for the whole call).
  const matched = new Map(events.map(({ shape }) => [shape.id, matchers.get(shape.topic)?.match(shape, now) ?? []]));
  const webhooks = [...new Map([...matched.values()].flat().map((w) => [w.id, w])).values()];
  if (bucket) admit(bucket, events.length, [...matched.values()].reduce((n, m) => n + m.length, 0), limits, at);
  const deadline = deadlineForRequest();
  const rendered = new Map<string, RenderedPayload | RenderError>();
  await Promise.all(
    events.flatMap(({ shape }) =>
      matched.get(shape.id)!.filter((w) => !w.batchWindowMs).map(async (w) => {
        const topic = topics.get(shape.topic)!;
        const payload = await render({ ...w, mode: w.payloadMode }, [shape], new Map([[shape.topic, topic]]), shape.entityId, deadline).catch((error: unknown) => {
          if (error instanceof RenderError) return error;
          throw error;
        });
        rendered.set(`${shape.id} ${w.id}`, payload);
      }),
    ),
  );
  const plan = (fresh: typeof events) => {
    const stored = new Date();
    const rows = fresh.map(({ shape, key }) => newEvent(tenantId, shape, key, stored));
    const instances: Instance[] = [];
    const created = new Map<string, Instance[]>();
    const batched: Parameters<typeof addToBatches>[1] = [];
    for (const { shape } of fresh) {
      const mine: Instance[] = [];
      for (const webhook of matched.get(shape.id)!) {
        if (webhook.batchWindowMs) batched.push({ webhook, eventId: shape.id });
        else mine.push(newDelivery(tenantId, webhook, shape, rendered.get(`${shape.id} ${webhook.id}`)!, stored));
      }
      instances.push(...mine);
      created.set(shape.id, mine);
    }
    const shared = keepBodiesOnce(instances);
    for (const row of rows) row.sharedBody = shared.get(row.id) ?? null;
    const results = (byKey = new Map<string, Event & { instances: Instance[] }>()) => {
      const storedEvents = new Map(rows.map((e) => [e.id, e]));
      return events.map(({ shape, key }) => {
        const previous = key ? byKey.get(key) : undefined;
        if (previous) return { event: previous, instances: previous.instances, duplicate: true };
        return { event: storedEvents.get(shape.id)!, instances: created.get(shape.id)!, duplicate: false };
      });
    };
    return { rows, instances, batched, results };
  };
  const job = { trigger: 'AUTO' as const, trace: currentTraceparent() };

  // Most publishes: no idempotency keys to look up, no batching, no ordering. Their
  // whole transaction (events, instances, notifications, jobs) goes in one round trip.
  if (keys.length === 0) {
    const ordered = new Set(webhooks.filter((w) => w.orderedDelivery).map((w) => w.id));
    const simple = plan(events);
    if (simple.batched.length === 0 && !simple.instances.some((i) => ordered.has(i.webhookId))) {
      await createDeliveriesInOneTrip(simple.rows, simple.instances, job);
      return simple.results();
    }
  }

  for (let attempt = 0; ; attempt += 1) {
    try {
      return await inTransaction(async (tx) => {
        const seen = await eventsByKeys(tx, tenantId, keys);
        const byKey = new Map(seen.map((e) => [e.idempotencyKey!, e]));
        const { rows, instances, batched, results } = plan(events.filter((e) => !e.key || !byKey.has(e.key)));
        await createDeliveries(tx, { events: rows, instances, webhooks, job });
        await addToBatches(tx, batched);
        return results(byKey);
      });
    } catch (error) {
      // Another call stored the same idempotency key first: read its event.
      if (isUniqueViolation(error) && attempt < 3) continue;
      throw error;
    }
  }
}

/**
 * Admission: a call that would create more deliveries than one call may, or that the tenant's publish bucket had no room
 * for, is refused before anything is stored (RATE_LIMITED says when to try again).
 */
function admit(bucket: Taken, events: number, deliveries: number, limits: PublishLimits, at: string): void {
  if (deliveries > limits.maxDeliveriesPerCall) {
    throw new InputError([{ field: at, message: `this call would create ${deliveries} deliveries (its events × the webhooks each matches); at most ${limits.maxDeliveriesPerCall} are allowed in one call (HERALD_MAX_DELIVERIES_PER_CALL): publish fewer events per call` }]);
  }
  if (bucket.taken) return;
  if (events > bucket.burst) throw new InputError([{ field: at, message: `this tenant may publish at most ${bucket.burst} events at once (its publish burst; got ${events}): publish fewer events per call` }]);
  const waitMs = Math.ceil(((events - (bucket.available ?? bucket.burst)) / bucket.rate) * 1000);
  throw rateLimited(`this tenant publishes more than its limit of ${bucket.rate} event${bucket.rate === 1 ? '' : 's'} a second (a burst of ${bucket.burst}): try again in ${waitMs} ms; nothing of this call was stored`, Math.max(1, waitMs));
}
