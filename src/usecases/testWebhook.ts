import type { Config } from '../config.ts';
import { uuidv7 } from '../db/ids.ts';
import { loadTopics } from '../store/catalog.ts';
import type { EventShape } from '../rules/eventShape.ts';
import { checkEvent, type EventInput } from '../rules/events.ts';
import { RenderError, type RenderedPayload } from '../rules/payload.ts';
import { deadlineForRequest, render } from '../render/pool.ts';
import { Problems } from '../rules/problems.ts';
import { InputError } from '../rules/errors.ts';
import { checkNewWebhook, findWebhook } from './webhooks.ts';
import { destination, type ShownRequest } from '../destinations/index.ts';
import { createDeliveries, newDelivery, newEvent, recordAttempt } from '../store/deliveries.ts';
import { latestEvent } from '../store/events.ts';
import { inTransaction } from '../store/transaction.ts';
import type { Instance } from '../generated/prisma/client.ts';
import { unsavedSettings, type StoredHeader, type WebhookInput } from '../rules/webhookSettings.ts';
import { sampleEvent } from '../rules/sample.ts';
import { eventShapeOf } from '../rules/events.ts';
import { expandEventTypes, type TopicInfo } from '../rules/topics.ts';
import { type Outcome, attemptOf, failed, lastOf } from '../rules/outcome.ts';

export interface TestResult {
  success: boolean;
  statusCode: number | null;
  errorKind: string | null;
  message: string;
  response: string | null;
  durationMs: number;
  request: (ShownRequest & { body: string }) | null;
  /** For a saved webhook, the TEST instance in its log. */
  instanceId: string | null;
  /** Which event the request was made from. */
  sample: SampleSource;
}

/** Where a test's event came from: the caller's, the tenant's latest real one, or the catalog. */
export interface SampleSource {
  kind: 'GIVEN' | 'LATEST_EVENT' | 'CATALOG';
  /** The real event copied (LATEST_EVENT). */
  eventId: string | null;
  description: string;
}

/**
 * What a test of these event types sends when no event is given: the tenant's latest real
 * event of the first topic (one of the types' actions), so that it is shaped like the real
 * thing; else an event made from the topic's catalog, with an entity id of its kind.
 */
export async function testSample(tenantId: string, eventTypes: string[], topics: Map<string, TopicInfo>): Promise<{ event: EventShape; sample: SampleSource }> {
  const pairs = expandEventTypes(eventTypes, topics).filter((p) => topics.has(p.topic));
  const topicKey = pairs[0]?.topic ?? eventTypes[0]?.split('.')[0] ?? '';
  const topic = topics.get(topicKey);
  if (!topic) throw new InputError([{ field: 'events', message: `no topic "${topicKey}" to make a test event of; create the topic first` }]);
  const actions = pairs.filter((p) => p.topic === topicKey).map((p) => p.action);
  const latest = await latestEvent(tenantId, topicKey, actions.filter((a) => a !== 'test'));
  if (latest) {
    return {
      event: { ...eventShapeOf(latest), action: 'test' },
      sample: { kind: 'LATEST_EVENT', eventId: latest.id, description: `your latest ${latest.topic}.${latest.action} event (entity ${latest.entityId}, ${latest.occurredAt.toISOString()})` },
    };
  }
  const event = sampleEvent(topic, uuidv7(), new Date());
  return { event, sample: { kind: 'CATALOG', eventId: null, description: `a sample made from the ${topic.key} catalog (entity id ${event.entityId}): no ${topic.key} event was published yet` } };
}

/**
 * The seeds' Test button: sends one request now, with action `test` and sample data
 * (the event given, or values made from the topic's catalog), waits for the answer
 * and returns it. For a saved webhook it is logged as a TEST attempt.
 */
export async function testWebhook(
  tenantId: string,
  target: { webhookId?: string | null; webhook?: WebhookInput | null },
  sample: EventInput | null,
  config: Config,
): Promise<TestResult> {
  const problems = new Problems();
  if (!!target.webhookId === !!target.webhook) problems.add('webhookId', 'give exactly one of `webhookId` (a saved webhook) or `webhook` (unsaved settings)');
  problems.throwIfAny();
  const saved = target.webhookId ? await findWebhook(tenantId, target.webhookId, { includeDeleted: false }) : null;
  const settings = saved
    ? { ...saved, mode: saved.payloadMode, headers: saved.headers as unknown as StoredHeader[] }
    : await unsaved(tenantId, target.webhook!, config);
  const topics = await loadTopics(tenantId);
  let event: EventShape;
  let source: SampleSource;
  if (sample) {
    event = { ...checkEvent(problems, 'event', sample, topics), action: 'test' };
    source = { kind: 'GIVEN', eventId: null, description: 'the event given' };
    problems.throwIfAny();
  } else ({ event, sample: source } = await testSample(tenantId, settings.eventTypes, topics));
  event.id = uuidv7();

  const startedAt = new Date();
  const messageId = saved ? uuidv7() : `msg_test_${event.id}`;
  let outcome: Outcome;
  let request: TestResult['request'] = null;
  let stored: unknown = null;
  let payload;
  try {
    payload = await render(settings, [event], new Map([[event.topic, topics.get(event.topic)!]]), event.entityId, deadlineForRequest());
    const to = destination();
    const prepared = to.prepare(payload, settings, messageId, startedAt);
    ({ stored, shown: request } = prepared);
    outcome = await to.send(prepared, settings);
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    outcome = failed('RENDER', error.message, 0);
  }
  if (saved) await record(tenantId, saved.id, messageId, event, payload ?? {}, stored, startedAt, outcome);
  return {
    success: outcome.ok,
    statusCode: outcome.statusCode,
    errorKind: outcome.errorKind,
    message: outcome.message,
    response: outcome.responseBody,
    durationMs: outcome.durationMs,
    request,
    instanceId: saved ? messageId : null,
    sample: source,
  };
}

async function unsaved(tenantId: string, input: WebhookInput, config: Config) {
  return unsavedSettings((await checkNewWebhook(tenantId, input, config, 'webhook')).resolved);
}

/** A saved webhook's test, in its log: the event (action `test`) and a delivery finished by this one TEST attempt. */
async function record(
  tenantId: string,
  webhookId: string,
  instanceId: string,
  event: EventShape,
  payload: object,
  request: unknown,
  startedAt: Date,
  outcome: Outcome,
) {
  const stored = newEvent(tenantId, { ...event, action: 'test', previous: null, changedFields: [], clientId: null, correlationId: null }, null, startedAt);
  const made = newDelivery(tenantId, { id: webhookId }, stored, payload as RenderedPayload, startedAt);
  const finished = { ...made, id: instanceId, status: outcome.ok ? ('COMPLETED' as const) : ('FAILED' as const), attempts: 1, request: request as Instance['request'], ...lastOf(outcome) };
  await inTransaction(async (tx) => {
    await createDeliveries(tx, { events: [stored], instances: [finished], webhooks: [], job: { trigger: 'MANUAL' } });
    await recordAttempt(tx, instanceId, attemptOf(outcome, 1, 'TEST', startedAt));
  });
}
