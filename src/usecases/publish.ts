import { db, inOneTrip, query, type Tx } from '../db/client.ts';
import { uuidv7 } from '../db/ids.ts';
import { Prisma, type Combinator, type Event, type HttpMethod, type Instance, type PayloadMode, type TemplateFormat } from '../generated/prisma/client.ts';
import { enqueueDeliveries, enqueueStatement } from '../queue/boss.ts';
import { CHANNEL, NOTIFY_CHANGED_INSTANCES } from '../pubsub/changes.ts';
import { lockEntity, onItsWay } from '../store/ordering.ts';
import { addToBatches } from '../store/batches.ts';
import { topicsJson } from '../store/catalog.ts';
import { evaluate } from '../rules/conditions.ts';
import type { EventShape } from '../rules/event.ts';
import { checkEvent, wants, type EventInput } from '../rules/events.ts';
import { RenderError, type RenderedPayload } from '../rules/payload.ts';
import { deadlineForRequest, render } from '../render/pool.ts';
import { Problems } from '../rules/problems.ts';
import { isUniqueViolation } from './topics.ts';
import { treeOf } from '../rules/webhookSettings.ts';
import { HERALD_TOPIC } from '../rules/heraldTopic.ts';
import { topicMap, type TopicInfo, type TopicRow } from '../rules/topics.ts';

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
 * payload, and stores the events, one instance per matching webhook and the delivery
 * jobs that carry them (up to DELIVERIES_PER_JOB of one webhook each) in one
 * transaction. Once this returns, nothing is lost.
 */
export async function publishEvents(
  tenantId: string,
  inputs: PublishInput[],
  limits: { maxEventBytes: number },
  at = 'inputs',
  { internal = false }: { internal?: boolean } = {},
): Promise<Published[]> {
  const problems = new Problems();
  if (inputs.length === 0 || inputs.length > MAX_BATCH) problems.add(at, `publish 1 to ${MAX_BATCH} events at once (got ${inputs.length})`);
  // The webhooks of the topics named (unknown topics are refused below and match none).
  const { topics, webhooks } = await readCatalog(tenantId, [...new Set(inputs.map((i) => i.topic))]);
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
  const matched = new Map(events.map(({ shape }) => [shape.id, webhooks.filter((w) => wants(w.eventTypes, shape.topic, shape.action) && evaluate(treeOf(w.conditions, w.conditionMatch), shape, now).matched)]));
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
    const rows = fresh.map(({ shape, key }) => eventRow(tenantId, shape, key, stored));
    const instances: Instance[] = [];
    const created = new Map<string, Instance[]>();
    const batched: Parameters<typeof addToBatches>[1] = [];
    for (const { shape } of fresh) {
      const mine: Instance[] = [];
      for (const webhook of matched.get(shape.id)!) {
        if (webhook.batchWindowMs) batched.push({ webhook, eventId: shape.id });
        else mine.push(instanceRow(tenantId, webhook, shape, rendered.get(`${shape.id} ${webhook.id}`)!, stored));
      }
      instances.push(...mine);
      created.set(shape.id, mine);
    }
    const jobs = () => instances.filter((i) => i.status === 'PENDING' && !i.held && !i.parked).map((i) => ({ instanceId: i.id, webhookId: i.webhookId, trigger: 'AUTO' as const }));
    const results = (byKey = new Map<string, Event & { instances: Instance[] }>()) => {
      const storedEvents = new Map(rows.map((e) => [e.id, e]));
      return events.map(({ shape, key }) => {
        const previous = key ? byKey.get(key) : undefined;
        if (previous) return { event: previous, instances: previous.instances, duplicate: true };
        return { event: storedEvents.get(shape.id)!, instances: created.get(shape.id)!, duplicate: false };
      });
    };
    return { rows, instances, batched, jobs, results };
  };

  // Most publishes: no idempotency keys to look up, no batching, no ordering. Their
  // whole transaction (events, instances, notifications, jobs) goes in one round trip.
  if (keys.length === 0) {
    const ordered = new Set(webhooks.filter((w) => w.orderedDelivery).map((w) => w.id));
    const simple = plan(events);
    if (simple.batched.length === 0 && !simple.instances.some((i) => ordered.has(i.webhookId))) {
      const jobs = simple.jobs();
      const sql = storeSql(simple.rows, simple.instances);
      await inOneTrip([...(sql ? [{ text: sql.text, values: sql.values }] : []), ...(jobs.length ? [await enqueueStatement(jobs)] : [])]);
      return simple.results();
    }
  }

  for (let attempt = 0; ; attempt += 1) {
    try {
      return await db().$transaction(async (tx) => {
        const seen = keys.length
          ? await tx.event.findMany({ where: { tenantId, idempotencyKey: { in: keys } }, include: { instances: true } })
          : [];
        const byKey = new Map(seen.map((e) => [e.idempotencyKey!, e]));
        const { rows, instances, batched, jobs, results } = plan(events.filter((e) => !e.key || !byKey.has(e.key)));
        await holdOrdered(tx, instances, webhooks);
        const sql = storeSql(rows, instances);
        if (sql) await tx.$executeRaw(sql);
        await addToBatches(tx, batched);
        await enqueueDeliveries(tx, jobs());
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
 * The statement that stores events and their instances as given, and announces them.
 * The rows go as one JSON document each (no per-value work in the client); what is
 * stored is exactly `events` and `instances`.
 */
function storeSql(events: Event[], instances: Instance[]): Prisma.Sql | null {
  if (events.length === 0) return null;
  const eventRows = events.map((e) => ({
    id: e.id,
    tenant_id: e.tenantId,
    topic: e.topic,
    action: e.action,
    entity_id: e.entityId,
    data: e.data,
    previous: e.previous,
    changed_fields: e.changedFields,
    actor: e.actor,
    client_id: e.clientId,
    correlation_id: e.correlationId,
    idempotency_key: e.idempotencyKey,
    occurred_at: e.occurredAt,
    created_at: e.createdAt,
  }));
  const instanceRows = instances.map((i) => ({
    id: i.id,
    tenant_id: i.tenantId,
    webhook_id: i.webhookId,
    event_id: i.eventId,
    entity_id: i.entityId,
    status: i.status,
    held: i.held,
    parked: i.parked,
    attempts: i.attempts,
    next_attempt_at: i.nextAttemptAt,
    payload: i.payload,
    request: i.request,
    last_status_code: i.lastStatusCode,
    last_message: i.lastMessage,
    last_duration_ms: i.lastDurationMs,
    last_error_kind: i.lastErrorKind,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
  }));
  // Explicit columns: a column added later takes its default rather than a NULL from the record.
  const eventColumns = Prisma.raw(Object.keys(eventRows[0]!).join(', '));
  const instanceColumns = Prisma.raw(Object.keys(instanceRows[0] ?? { id: null }).join(', '));
  return Prisma.sql`
    WITH stored AS (
      INSERT INTO event (${eventColumns}) SELECT ${eventColumns} FROM jsonb_populate_recordset(NULL::event, ${JSON.stringify(eventRows)}::jsonb)
      RETURNING id, tenant_id, topic),
    changed AS (
      INSERT INTO instance (${instanceColumns}) SELECT ${instanceColumns} FROM jsonb_populate_recordset(NULL::instance, ${JSON.stringify(instanceRows)}::jsonb)
      RETURNING id, tenant_id, webhook_id, status)
    SELECT (SELECT count(*) FROM stored, LATERAL (SELECT pg_notify(${CHANNEL}, json_build_object('k', 'event', 't', tenant_id, 'id', id, 'topic', topic)::text)) AS sent)
      + (SELECT count(*) FROM (${NOTIFY_CHANGED_INSTANCES}) AS notified)`;
}

interface MatchingWebhook {
  id: string;
  eventTypes: string[];
  conditionMatch: Combinator;
  conditions: Parameters<typeof treeOf>[0];
  batchWindowMs: number | null;
  batchMaxSize: number;
  orderedDelivery: boolean;
  url: string;
  method: HttpMethod;
  payloadMode: PayloadMode;
  selectedFields: string[];
  template: string | null;
  templateFormat: TemplateFormat | null;
  /** Its deliveries are held (PAUSED) until it resumes. */
  paused: boolean;
  /** Its circuit is open: its deliveries wait (parked, no job) until a probe succeeds. */
  circuitOpen: boolean;
}

/**
 * What a publish reads, in one plain query (every publish makes it): the tenant's
 * topics, and what matching and rendering need of its active and paused webhooks on `topics`.
 */
async function readCatalog(tenantId: string, topics: string[]): Promise<{ topics: Map<string, TopicInfo>; webhooks: MatchingWebhook[] }> {
  const [row] = await query<{ topics: TopicRow[]; webhooks: MatchingWebhook[] }>(Prisma.sql`
    SELECT (${topicsJson(tenantId)}) AS topics,
      (SELECT COALESCE(json_agg(json_build_object('id', w.id, 'eventTypes', w.event_types, 'conditionMatch', w.condition_match,
        'conditions', COALESCE((SELECT json_agg(json_build_object('id', c.id, 'parentId', c.parent_id, 'kind', c.kind, 'combinator', c.combinator,
          'path', c.path, 'operator', c.operator, 'values', c.values, 'position', c.position)) FROM condition c WHERE c.webhook_id = w.id), '[]'),
        'batchWindowMs', w.batch_window_ms, 'batchMaxSize', w.batch_max_size, 'orderedDelivery', w.ordered_delivery, 'url', w.url, 'method', w.method,
        'payloadMode', w.payload_mode, 'selectedFields', w.selected_fields, 'template', w.template, 'templateFormat', w.template_format,
        'paused', NOT w.active, 'circuitOpen', g.open_until IS NOT NULL) ORDER BY w.id), '[]')
      FROM webhook w LEFT JOIN webhook_gate g ON g.webhook_id = w.id
      WHERE w.tenant_id = ${tenantId}::uuid AND (w.active OR w.paused_at IS NOT NULL) AND w.deleted_at IS NULL AND w.topics && ${topics}::text[]) AS webhooks`);
  return { topics: topicMap(row!.topics), webhooks: row!.webhooks };
}

/**
 * Ordered webhooks: an instance waits (held, no job) while an earlier one of the same
 * entity is on its way, including earlier ones in this same publish.
 */
export async function holdOrdered(tx: Tx, instances: Instance[], webhooks: Array<{ id: string; orderedDelivery: boolean }>) {
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

function eventRow(tenantId: string, e: EventShape, idempotencyKey: string | null, createdAt: Date): Event {
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
  };
}

/**
 * An instance with its rendered payload, PENDING (PAUSED for a paused webhook: sent when
 * it resumes; parked, without a job, while its circuit is open); a payload that could
 * not render fails the instance at once, visibly.
 */
export function instanceRow(
  tenantId: string,
  webhook: { id: string; paused?: boolean; circuitOpen?: boolean },
  event: EventShape,
  payload: RenderedPayload | RenderError,
  createdAt: Date,
): Instance {
  const base: Instance = {
    id: uuidv7(),
    tenantId,
    webhookId: webhook.id,
    eventId: event.id,
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
  if (payload instanceof RenderError) return { ...base, status: 'FAILED', lastMessage: payload.message, lastErrorKind: 'RENDER' };
  return { ...base, payload: payload as unknown as Instance['payload'] };
}
