import { InputError } from '../rules/errors.ts';
import { loadTopics } from '../store/catalog.ts';
import { evaluate } from '../rules/conditions.ts';
import { checkEvent, wants, type EventInput } from '../rules/events.ts';
import { RenderError, type PayloadSpec } from '../rules/payload.ts';
import { destination } from '../destinations/index.ts';
import { deadlineForRequest, render } from '../render/pool.ts';
import { Problems } from '../rules/problems.ts';
import { checkNewWebhook, conditionTree, findWebhook } from './webhooks.ts';
import { unsavedSettings, type StoredHeader, type WebhookInput, type WebhookLimits } from '../rules/webhookSettings.ts';
import { inputTree } from '../rules/conditionTree.ts';

export interface Preview {
  eventType: string;
  /** Whether the webhook subscribes to this event type. */
  subscribed: boolean;
  /** Whether its conditions hold for this event. */
  conditionsMatch: boolean;
  /** Why it would not be sent (empty when it would). */
  reasons: string[];
  wouldSend: boolean;
  method: string | null;
  url: string | null;
  headers: Array<{ name: string; value: string }>;
  body: string | null;
  /** Set when the payload cannot be rendered for this event. */
  renderError: string | null;
  /** True when the webhook has no secret yet and an example secret signed the preview. */
  exampleSecret: boolean;
  orderedDelivery: boolean;
  batchWindowMs: number | null;
}

/**
 * What a webhook (saved, or not yet saved) would send for an event: the request
 * exactly as delivery builds it, and whether and why not it would fire.
 */
export async function previewWebhook(
  tenantId: string,
  target: { webhookId?: string | null; webhook?: WebhookInput | null },
  sample: EventInput,
  limits: WebhookLimits,
): Promise<Preview> {
  if (!!target.webhookId === !!target.webhook) {
    throw new InputError([{ field: 'webhookId', message: 'give exactly one of `webhookId` (a saved webhook) or `webhook` (unsaved settings)' }]);
  }
  let settings: PayloadSpec & { eventTypes: string[]; headers: StoredHeader[]; secret: string; previousSecret: string | null; previousSecretUntil: Date | null; orderedDelivery: boolean; batchWindowMs: number | null };
  let tree;
  if (target.webhookId) {
    const webhook = await findWebhook(tenantId, target.webhookId, { includeDeleted: false });
    settings = { ...webhook, mode: webhook.payloadMode, headers: webhook.headers as unknown as StoredHeader[] };
    tree = await conditionTree(webhook.id, webhook.conditionMatch);
  } else {
    const { resolved, conditions } = await checkNewWebhook(tenantId, target.webhook!, limits, 'webhook');
    settings = unsavedSettings(resolved);
    tree = inputTree(conditions, resolved.conditionMatch ?? 'ALL');
  }
  const topics = await loadTopics(tenantId);
  const problems = new Problems();
  const event = checkEvent(problems, 'event', sample, topics);
  problems.throwIfAny();

  const now = new Date();
  const eventType = `${event.topic}.${event.action}`;
  const subscribed = wants(settings.eventTypes, event.topic, event.action);
  const evaluation = evaluate(tree, event, now);
  const reasons = [...(subscribed ? [] : [`the webhook does not subscribe to ${eventType} (it takes ${settings.eventTypes.join(', ')})`]), ...evaluation.reasons];
  const base = { eventType, subscribed, conditionsMatch: evaluation.matched, reasons, wouldSend: subscribed && evaluation.matched, exampleSecret: !target.webhookId, orderedDelivery: settings.orderedDelivery, batchWindowMs: settings.batchWindowMs };
  try {
    const topic = new Map([[event.topic, topics.get(event.topic)!]]);
    const payload = await render(settings, [event], topic, settings.batchWindowMs ? null : event.entityId, deadlineForRequest());
    const { method, url, headers, body } = destination().prepare(payload, settings, `msg_preview_${event.id}`, now).shown;
    return { ...base, method, url, headers, body, renderError: null };
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    return { ...base, wouldSend: false, method: null, url: null, headers: [], body: null, renderError: error.message };
  }
}
