import { conflict } from '../rules/errors.ts';
import type { Event, Instance } from '../generated/prisma/client.ts';
import { addToBatches } from '../store/batches.ts';
import { circuitOf } from '../store/gates.ts';
import { eventsNotReceived } from '../store/events.ts';
import { createDeliveries, newDelivery } from '../store/deliveries.ts';
import { inTransaction } from '../store/transaction.ts';
import { deadlineForRequest, render } from '../render/pool.ts';
import { loadTopics } from '../store/catalog.ts';
import { evaluate } from '../rules/conditions.ts';
import { eventShapeOf, wants } from '../rules/events.ts';
import { RenderError } from '../rules/payload.ts';
import { Problems, text } from '../rules/problems.ts';
import { conditionTree, findWebhook } from './webhooks.ts';
import { stateOf } from '../rules/webhookSettings.ts';

export interface ReplayFilter {
  since: Date;
  until?: Date | null;
  eventTypes?: string[] | null;
  entityId?: string | null;
}

export interface ReplayResult {
  /** Stored events in the range that the webhook takes (type and conditions, as if published now) and never received. */
  matched: number;
  /** Deliveries created (0 for a dry run). */
  created: number;
  /** More match than one call replays (MAX_REPLAY): call again to go on; what was replayed is not replayed twice. */
  more: boolean;
  dryRun: boolean;
}

/** Events replayed by one call, at most. */
export const MAX_REPLAY = 10_000;
/** Events read, matched, rendered and stored per transaction. */
const STEP = 500;

/**
 * Delivers stored events a webhook never received (a backfill), matched as if published now and each once; a dry run counts.
 * A paused webhook holds them, an open circuit parks them, as for a publish.
 */
export async function replayEvents(tenantId: string, webhookId: string, filter: ReplayFilter, { dryRun }: { dryRun: boolean }): Promise<ReplayResult> {
  const webhook = await findWebhook(tenantId, webhookId, { includeDeleted: false });
  if (stateOf(webhook) === 'DISABLED') throw conflict('the webhook is off: turn it on (setWebhookActive) or pause it (pauseWebhook) to replay events to it', 'webhookId');
  const problems = new Problems();
  const until = filter.until ?? new Date();
  if (!(filter.since < until)) problems.add('filter.since', `must be before until (${until.toISOString()})`);
  const entityId = text(problems, 'filter.entityId', filter.entityId, { max: 200 }) ?? null;
  const types = filter.eventTypes ?? null;
  types?.forEach((type, i) => {
    const [topic = '', action = '', extra] = type.split('.');
    const taken = extra === undefined && (action === '*' ? webhook.topics.includes(topic) : wants(webhook.eventTypes, topic, action));
    if (!taken) problems.add(`filter.eventTypes[${i}]`, `the webhook does not take "${type}"; it takes ${webhook.eventTypes.join(', ')}`);
  });
  problems.throwIfAny();

  const topics = await loadTopics(tenantId);
  const tree = await conditionTree(webhook.id, webhook.conditionMatch);
  const paused = stateOf(webhook) === 'PAUSED';
  const circuitOpen = !dryRun && (await circuitOf(webhook.id)).open;
  const now = new Date();
  const takes = (event: Event) =>
    wants(webhook.eventTypes, event.topic, event.action) &&
    (!types || types.some((t) => t === `${event.topic}.${event.action}` || t === `${event.topic}.*`)) &&
    evaluate(tree, eventShapeOf(event), now).matched;

  let matched = 0;
  let created = 0;
  let after: Event | null = null;
  for (;;) {
    const page: Event[] = await eventsNotReceived(tenantId, { id: webhook.id, topics: webhook.topics, batching: webhook.batchWindowMs !== null }, { since: filter.since, until, entityId, after }, STEP);
    if (page.length === 0) break;
    after = page.at(-1)!;
    const taken = page.filter(takes).slice(0, MAX_REPLAY + 1 - matched);
    matched += taken.length;
    const replaying = taken.slice(0, Math.max(0, MAX_REPLAY - created));
    if (!dryRun && replaying.length) created += await store(webhook, replaying, topics, { paused, circuitOpen });
    if (matched > MAX_REPLAY) break;
  }
  return { matched: Math.min(matched, MAX_REPLAY), created, more: matched > MAX_REPLAY, dryRun };
}

/** Renders and stores deliveries of `events` to the webhook (or adds them to its batches), in one transaction. */
async function store(
  webhook: Awaited<ReturnType<typeof findWebhook>>,
  events: Event[],
  topics: Awaited<ReturnType<typeof loadTopics>>,
  state: { paused: boolean; circuitOpen: boolean },
): Promise<number> {
  const spec = { ...webhook, mode: webhook.payloadMode };
  const batching = webhook.batchWindowMs !== null;
  const deadline = deadlineForRequest();
  const stored = new Date();
  const instances: Instance[] = batching
    ? []
    : await Promise.all(
        events.map(async (event) => {
          const shape = eventShapeOf(event);
          const payload = await render(spec, [shape], new Map([[shape.topic, topics.get(shape.topic)!]]), shape.entityId, deadline).catch((error: unknown) => {
            if (error instanceof RenderError) return error;
            throw error;
          });
          return newDelivery(webhook.tenantId, { id: webhook.id, ...state }, shape, payload, stored);
        }),
      );
  await inTransaction(async (tx) => {
    if (batching) {
      await addToBatches(tx, events.map((e) => ({ webhook, eventId: e.id })));
      return;
    }
    await createDeliveries(tx, { instances, webhooks: [webhook], job: { trigger: 'AUTO', background: true } });
  }, { timeoutMs: 60_000 });
  return events.length;
}
