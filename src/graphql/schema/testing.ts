import { ERROR_KINDS } from '../../rules/outcome.ts';
import { loadTopics } from '../../store/catalog.ts';
import { testSample, testWebhook } from '../../usecases/testWebhook.ts';
import { builder } from '../builder.ts';
import { tenantOf } from '../context.ts';
import { EventInputRef } from './events.ts';
import { CreateWebhookInput } from './webhooks.ts';
import { previewWebhook } from '../../usecases/preview.ts';
import type { WebhookInput as DomainWebhookInput } from '../../rules/webhookSettings.ts';

/** Trying a webhook: what it would send for an event (the preview), what a test would send, and sending one (the seeds' Test button). */

const TestRequest = builder.simpleObject('TestRequest', {
  fields: (t) => ({
    method: t.string(),
    url: t.string(),
    headers: t.field({ type: [builder.simpleObject('TestRequestHeader', { fields: (h) => ({ name: h.string(), value: h.string() }) })] }),
    body: t.string(),
  }),
});

const SampleKindEnum = builder.enumType('TestSampleKind', {
  description: "GIVEN: the event passed; LATEST_EVENT: the tenant's latest real event of the topic (action `test`); CATALOG: values made from the topic's catalog.",
  values: ['GIVEN', 'LATEST_EVENT', 'CATALOG'] as const,
});
const SampleEventRef = builder.simpleObject('SampleEvent', {
  fields: (t) => ({
    topic: t.string(),
    action: t.string(),
    entityId: t.string(),
    data: t.field({ type: 'JSON', nullable: true }),
    previous: t.field({ type: 'JSON', nullable: true }),
  }),
});
const TestSampleRef = builder.simpleObject('TestSample', {
  description: 'Which event a test request is made from.',
  fields: (t) => ({
    kind: t.field({ type: SampleKindEnum }),
    eventId: t.id({ nullable: true, description: 'LATEST_EVENT: the real event copied.' }),
    description: t.string({ description: 'In words, for the person who pressed Test.' }),
    event: t.field({ type: SampleEventRef, nullable: true }),
  }),
});

builder.queryField('testSample', (t) =>
  t.field({
    type: TestSampleRef,
    description: "What a test of these event types sends when no event is given: the tenant's latest real event of the first topic, else a sample from its catalog (entity ids of the topic's kind).",
    authScopes: { read: true },
    args: { eventTypes: t.arg.stringList({ required: true }) },
    resolve: async (_root, { eventTypes }, ctx) => {
      const { event, sample } = await testSample(tenantOf(ctx), eventTypes, await loadTopics(tenantOf(ctx)));
      return { ...sample, event: { topic: event.topic, action: event.action, entityId: event.entityId, data: event.data, previous: event.previous } };
    },
  }),
);

const TestResultRef = builder.simpleObject('TestResult', {
  description: "What the listener answered to one test request (the seeds' Test button).",
  fields: (t) => ({
    success: t.boolean(),
    statusCode: t.int({ nullable: true }),
    errorKind: t.string({ nullable: true, description: ERROR_KINDS.join(', ') }),
    message: t.string(),
    response: t.string({ nullable: true, description: 'The first 4 KiB of the answer.' }),
    durationMs: t.int(),
    request: t.field({ type: TestRequest, nullable: true }),
    instanceId: t.id({ nullable: true, description: 'For a saved webhook: the TEST instance in its log.' }),
    sample: t.field({ type: TestSampleRef, description: 'Which event the request was made from.' }),
  }),
});

builder.mutationField('testWebhook', (t) =>
  t.field({
    type: TestResultRef,
    description: 'Sends one request now with action `test` and sample data, and answers with the result. A saved webhook (`webhookId`) logs it as a TEST attempt; unsaved settings (`webhook`) can be tried before saving.',
    authScopes: { operate: true },
    args: {
      webhookId: t.arg.id(),
      webhook: t.arg({ type: CreateWebhookInput }),
      event: t.arg({ type: EventInputRef, description: "The event to send (as action `test`); by default the tenant's latest real event of the topic, else values made from its catalog (see testSample)." }),
    },
    resolve: (_root, args, ctx) =>
      testWebhook(tenantOf(ctx), { webhookId: args.webhookId ? String(args.webhookId) : null, webhook: args.webhook as never }, args.event ?? null, ctx.config),
  }),
);

const PreviewHeader = builder.simpleObject('PreviewHeader', { fields: (t) => ({ name: t.string(), value: t.string() }) });
const PayloadPreview = builder.simpleObject('PayloadPreview', {
  description: 'The request exactly as delivery would send it (secret header values hidden), and whether it would be sent.',
  fields: (t) => ({
    eventType: t.string(),
    subscribed: t.boolean({ description: 'The webhook takes this event type.' }),
    conditionsMatch: t.boolean(),
    wouldSend: t.boolean(),
    reasons: t.stringList({ description: 'Why it would not be sent.' }),
    method: t.string({ nullable: true }),
    url: t.string({ nullable: true }),
    headers: t.field({ type: [PreviewHeader] }),
    body: t.string({ nullable: true }),
    renderError: t.string({ nullable: true }),
    exampleSecret: t.boolean({ description: 'An unsaved webhook has no secret: an example one signed this preview.' }),
    orderedDelivery: t.boolean({ description: 'Whether this would wait for earlier deliveries of the same entity.' }),
    batchWindowMs: t.int({ nullable: true, description: 'Set when the webhook batches: the body shows this event as a batch of one.' }),
  }),
});

builder.queryField('previewWebhookPayload', (t) =>
  t.field({
    type: PayloadPreview,
    description: 'What a saved webhook (`webhookId`) or unsaved settings (`webhook`) would send for a sample event. Sends nothing.',
    authScopes: { read: true },
    args: {
      webhookId: t.arg.id(),
      webhook: t.arg({ type: CreateWebhookInput }),
      event: t.arg({ type: EventInputRef, required: true }),
    },
    resolve: (_root, args, ctx) =>
      previewWebhook(tenantOf(ctx), { webhookId: args.webhookId ? String(args.webhookId) : null, webhook: args.webhook as DomainWebhookInput | null }, args.event, ctx.config),
  }),
);
