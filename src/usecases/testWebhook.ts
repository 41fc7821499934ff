import type { Config } from '../config.ts';
import { db } from '../db/client.ts';
import { uuidv7 } from '../db/ids.ts';
import { loadTopics } from '../store/catalog.ts';
import type { EventShape } from '../rules/event.ts';
import { checkEvent, type EventInput } from '../rules/events.ts';
import { RenderError } from '../rules/payload.ts';
import { deadlineForRequest, render } from '../render/pool.ts';
import { Problems } from '../rules/problems.ts';
import { checkNewWebhook, findWebhook } from './webhooks.ts';
import { AddressGuard } from '../rules/addresses.ts';
import { buildRequest, shownRequest, storedRequest, type ShownRequest, type StoredRequest } from '../rules/request.ts';
import { sharedSender } from '../outbound/sender.ts';
import { announceCreated } from '../store/instances.ts';
import { unsavedSettings, type StoredHeader, type WebhookInput } from '../rules/webhookSettings.ts';
import { sampleEvent } from '../rules/sample.ts';
import { type Outcome, attemptOf, lastOf } from '../rules/outcome.ts';

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
  const topicKey = sample?.topic ?? settings.eventTypes[0]!.split('.')[0]!;
  const event: EventShape = sample
    ? { ...checkEvent(problems, 'event', sample, topics), action: 'test' }
    : sampleEvent(topics.get(topicKey)!, uuidv7(), new Date());
  problems.throwIfAny();
  event.id = uuidv7();

  const startedAt = new Date();
  const messageId = saved ? uuidv7() : `msg_test_${event.id}`;
  let outcome: Outcome;
  let request: TestResult['request'] = null;
  let stored: StoredRequest | null = null;
  let payload;
  try {
    payload = await render(settings, [event], new Map([[event.topic, topics.get(event.topic)!]]), event.entityId, deadlineForRequest());
    const built = buildRequest(payload, settings, messageId, startedAt);
    stored = storedRequest(built, settings.headers, payload, messageId);
    request = { ...shownRequest(stored, payload, messageId)!, body: built.body };
    outcome = await sharedSender(new AddressGuard(config.outboundAllow)).send(built, settings.timeoutMs);
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    outcome = { ok: false, statusCode: null, errorKind: 'RENDER', message: error.message, responseBody: null, location: null, retryAfter: undefined, durationMs: 0 };
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
  };
}

async function unsaved(tenantId: string, input: WebhookInput, config: Config) {
  return unsavedSettings((await checkNewWebhook(tenantId, input, config, 'webhook')).resolved);
}

async function record(
  tenantId: string,
  webhookId: string,
  instanceId: string,
  event: EventShape,
  payload: object,
  request: StoredRequest | null,
  startedAt: Date,
  outcome: Outcome,
) {
  await db().$transaction(async (tx) => {
    await tx.event.create({
      data: {
        id: event.id,
        tenantId,
        topic: event.topic,
        action: 'test',
        entityId: event.entityId,
        data: (event.data ?? undefined) as never,
        actor: (event.actor ?? undefined) as never,
        occurredAt: event.occurredAt,
      },
    });
    await tx.instance.create({
      data: {
        id: instanceId,
        tenantId,
        webhookId,
        eventId: event.id,
        entityId: event.entityId,
        status: outcome.ok ? 'COMPLETED' : 'FAILED',
        attempts: 1,
        payload: payload as never,
        request: (request ?? undefined) as never,
        ...lastOf(outcome),
        attemptList: { create: attemptOf(outcome, 1, 'TEST', startedAt) },
      },
    });
    await announceCreated(tx, [instanceId]);
  });
}
