import { secretHint } from '../../rules/signing.ts';
import { open } from '../../crypto/secrets.ts';
import { retryDelays } from '../../rules/retry.ts';
import { circuitOf } from '../../store/gates.ts';
import { MAX_REPLAY, replayEvents } from '../../usecases/replay.ts';
import { createWebhook, deleteWebhook, findWebhook, rotateWebhookSecret, discardHeldDeliveries, setWebhookState, updateWebhook } from '../../usecases/webhooks.ts';
import { HttpMethod, PayloadMode, TemplateFormat } from '../../generated/prisma/enums.ts';
import { ALSO_PUBLISHERS, builder, READERS } from '../builder.ts';
import { keyset } from '../pages.ts';
import { tenantOf } from '../context.ts';
import { TRIGGER_ACTIONS, type StoredHeader, type WebhookInput as DomainWebhookInput, WEBHOOK_LIMITS, stateOf } from '../../rules/webhookSettings.ts';
import { heldCount } from '../../store/instances.ts';
import { webhookAs, webhookPage } from '../../store/webhooks.ts';
import { ConditionInput, MatchEnum } from './conditions.ts';

const HttpMethodEnum = builder.enumType(HttpMethod, { name: 'HttpMethod' });
const PayloadModeEnum = builder.enumType(PayloadMode, {
  name: 'PayloadMode',
  description: 'CHANGES: Springest\'s {"changes":[{action,object,id,url}]}. ID_ONLY: the event envelope only. ID_AND_MODIFIED_FIELDS: plus the fields that changed. SELECTED_FIELDS: plus chosen catalog fields. FULL: plus all data. CUSTOM: a template.',
});
const TemplateFormatEnum = builder.enumType(TemplateFormat, { name: 'TemplateFormat' });
const TriggerEnum = builder.enumType(Object.fromEntries(Object.keys(TRIGGER_ACTIONS).map((k) => [k, k])) as Record<keyof typeof TRIGGER_ACTIONS, keyof typeof TRIGGER_ACTIONS>, {
  name: 'Trigger',
  description: 'Shorthand for event types: CREATE = created, UPDATE = updated, CREATE_OR_UPDATE = both, DELETE = deleted.',
});

const WebhookStateEnum = builder.enumType({ ACTIVE: 'ACTIVE', PAUSED: 'PAUSED', DISABLED: 'DISABLED' } as const, {
  name: 'WebhookState',
  description:
    'ACTIVE: deliveries are sent. PAUSED: matching events are still recorded for it (PAUSED instances) and sent when it resumes; Herald pauses a webhook whose deliveries keep failing. DISABLED: it takes no events.',
});

const RateLimit = builder.simpleObject('RateLimit', {
  description: 'Limits that hold for the whole deployment, however many worker processes run. Deliveries over them wait (PENDING), never fail because of them.',
  fields: (t) => ({
    perSecond: t.float({ nullable: true, description: 'Requests per second at most.' }),
    maxInFlight: t.int({ nullable: true, description: 'Requests on their way at once at most.' }),
  }),
});
const RateLimitInput = builder.inputType('RateLimitInput', {
  fields: (t) => ({
    perSecond: t.float({ description: 'Requests per second at most (0.01–10000).' }),
    maxInFlight: t.int({ description: 'Requests on their way at once at most (1–1000).' }),
  }),
});
const Circuit = builder.simpleObject('WebhookCircuit', {
  description:
    "How Herald treats the webhook's receiver now. After HERALD_BREAKER_FAILURES failed attempts in a row, or when it answers 429/503 with Retry-After, the circuit opens: deliveries wait (parked) and one probe goes at growing intervals; the first success closes it. 429, 502, 503 and 504 also halve the requests kept in flight (inFlightLimit); each success adds one back.",
  fields: (t) => ({
    open: t.boolean(),
    failingAttempts: t.int({ description: 'Failed attempts in a row (network errors, 5xx, 408, 429).' }),
    reason: t.string({ nullable: true }),
    nextProbeAt: t.field({ type: 'DateTime', nullable: true, description: 'While open: when the next probe may go.' }),
    inFlightLimit: t.int({ nullable: true, description: 'Requests in flight allowed since the receiver asked to slow down; null: not reduced.' }),
    parkedDeliveries: t.int({ description: 'Deliveries waiting for it to close.' }),
  }),
});

const WebhookHeader = builder.objectRef<StoredHeader>('WebhookHeader').implement({
  ...READERS,
  fields: (t) => ({
    name: t.exposeString('name'),
    secret: t.exposeBoolean('secret', { description: 'Secret values are never shown after they are saved.' }),
    value: t.string({ nullable: true, resolve: (h) => (h.secret ? null : h.value) }),
  }),
});


export const WebhookRef = builder.prismaObject('Webhook', {
  ...READERS,
  description: 'A subscription to event types, delivered to one URL.',
  fields: (t) => ({
    id: t.exposeID('id', ALSO_PUBLISHERS),
    label: t.exposeString('label', ALSO_PUBLISHERS),
    description: t.exposeString('description'),
    active: t.exposeBoolean('active', { description: 'True when its state is ACTIVE.' }),
    state: t.field({ type: WebhookStateEnum, resolve: (w) => stateOf(w) }),
    pausedAt: t.expose('pausedAt', { type: 'DateTime', nullable: true }),
    heldDeliveries: t.int({
      description: 'Deliveries held while it is paused (PAUSED instances): sent when it resumes, or discarded with discardHeldDeliveries.',
      resolve: (w) => heldCount(w.id),
    }),
    events: t.exposeStringList('eventTypes', { description: 'Event types, `topic.action` or `topic.*`.' }),
    topics: t.exposeStringList('topics'),
    url: t.exposeString('url'),
    method: t.expose('method', { type: HttpMethodEnum }),
    headers: t.field({ type: [WebhookHeader], resolve: (w) => w.headers as unknown as StoredHeader[] }),
    payloadMode: t.expose('payloadMode', { type: PayloadModeEnum }),
    selectedFields: t.exposeStringList('selectedFields'),
    template: t.exposeString('template', { nullable: true }),
    templateFormat: t.expose('templateFormat', { type: TemplateFormatEnum, nullable: true }),
    conditionMatch: t.expose('conditionMatch', { type: MatchEnum }),
    conditions: t.relation('conditions', {
      description: 'The top level of the condition tree; groups hold their own children.',
      query: { where: { parentId: null }, orderBy: { position: 'asc' } },
      complexity: { field: 1, multiplier: WEBHOOK_LIMITS.conditions },
    }),
    secretHint: t.string({ description: 'The end of the signing secret; the secret itself is shown only when created or rotated.', resolve: (w) => secretHint(open(w.secret)) }),
    previousSecretExpiresAt: t.expose('previousSecretUntil', { type: 'DateTime', nullable: true }),
    timeoutMs: t.exposeInt('timeoutMs'),
    maxAttempts: t.exposeInt('maxAttempts'),
    backoffBaseMs: t.exposeInt('backoffBaseMs'),
    backoffCapMs: t.exposeInt('backoffCapMs'),
    retryScheduleMs: t.exposeIntList('retryScheduleMs', { description: 'Delays before attempts 2, 3, … (the last repeats); empty when it backs off exponentially.' }),
    retryDelaysMs: t.intList({
      description: 'The delays between its attempts, as its retry settings make them (for exponential backoff, the most each waits; scheduled delays wait up to a tenth longer).',
      resolve: (w) => retryDelays(w),
    }),
    finalStatusCodes: t.exposeIntList('finalStatusCodes', { description: 'Answers that fail a delivery at once instead of retrying it (410 Gone always does, and pauses the webhook).' }),
    rateLimit: t.field({
      type: RateLimit,
      nullable: true,
      resolve: (w) => (w.rateLimitPerSecond === null && w.rateLimitInFlight === null ? null : { perSecond: w.rateLimitPerSecond, maxInFlight: w.rateLimitInFlight }),
    }),
    circuit: t.field({ type: Circuit, resolve: (w) => circuitOf(w.id) }),
    failingSince: t.expose('failingSince', { type: 'DateTime', nullable: true, description: 'When its current run of failed deliveries began; null once one succeeds.' }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', { description: 'Failed deliveries in a row (after all their attempts); at HERALD_DEACTIVATE_AFTER_FAILURES, Herald pauses the webhook.' }),
    batchWindowMs: t.exposeInt('batchWindowMs', { nullable: true, description: 'Events are collected this long and sent as one request; null: each event alone.' }),
    batchMaxSize: t.exposeInt('batchMaxSize', { description: 'A batch is sent as soon as it holds this many events.' }),
    orderedDelivery: t.exposeBoolean('orderedDelivery', {
      description: 'Per-entity order: a later event for an entity is not sent before the earlier one is COMPLETED or FAILED.',
    }),
    traceContext: t.exposeBoolean('traceContext', {
      description: "Whether each request carries W3C traceparent and tracestate headers, so that the receiver's trace continues Herald's (only while Herald's tracing is on: HERALD_TRACES_ENDPOINT).",
    }),
    deactivatedReason: t.exposeString('deactivatedReason', { nullable: true }),
    deactivatedAt: t.expose('deactivatedAt', { type: 'DateTime', nullable: true }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});


const HeaderInput = builder.inputType('WebhookHeaderInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    value: t.string({ required: true }),
    secret: t.boolean({ description: 'Hide the value after saving (always for Authorization, Cookie and API-key headers).' }),
  }),
});
const TriggerInput = builder.inputType('TriggerInput', {
  fields: (t) => ({ topic: t.string({ required: true }), trigger: t.field({ type: TriggerEnum, required: true }) }),
});

function webhookInputFields(required: boolean) {
  return (t: any) => ({
    label: t.string({ required }),
    description: t.string(),
    active: t.boolean({ description: 'A new webhook starts DISABLED unless this is true. On update: true makes it ACTIVE (sending what it held), false DISABLED.' }),
    events: t.stringList({ description: 'Event types: `delegate.created`, `course.*`.' }),
    triggers: t.field({ type: [TriggerInput], description: 'A topic and trigger, as shorthand for event types.' }),
    url: t.string({ required, description: 'http(s) endpoint; `{id}` is replaced by the entity id.' }),
    method: t.field({ type: HttpMethodEnum }),
    headers: t.field({ type: [HeaderInput] }),
    payloadMode: t.field({ type: PayloadModeEnum }),
    selectedFields: t.stringList({ description: 'Catalog paths, for SELECTED_FIELDS.' }),
    template: t.string({ description: 'For CUSTOM: Liquid with the catalog merge tags (`@@CandidateForename`).' }),
    templateFormat: t.field({ type: TemplateFormatEnum }),
    conditionMatch: t.field({ type: MatchEnum }),
    conditions: t.field({ type: [ConditionInput], description: 'On update, replaces every condition.' }),
    timeoutMs: t.int({ description: '1000–30000, default 10000.' }),
    maxAttempts: t.int({ description: '1–100; default 5, or one more than the delays of a retryScheduleMs given.' }),
    retryScheduleMs: t.intList({
      description:
        'Delays before attempts 2, 3, … in milliseconds (the last repeats up to maxAttempts). Default for a new webhook: [300000, 1800000, 7200000, 86400000] (5 min, 30 min, 2 h, 24 h). Null or empty: exponential backoff (backoffBaseMs, backoffCapMs).',
    }),
    backoffBaseMs: t.int({ description: 'Exponential backoff: first retry delay; doubles each attempt (with jitter). Default 30000. Setting it (or backoffCapMs) chooses exponential backoff.' }),
    backoffCapMs: t.int({ description: 'Exponential backoff: longest retry delay. Default 3600000.' }),
    rateLimit: t.field({ type: RateLimitInput, description: 'Requests per second and/or in flight at most, for the whole deployment; null: none (the default).' }),
    finalStatusCodes: t.intList({ description: 'Status codes (300–599) that fail a delivery at once instead of retrying it, e.g. [400, 401, 422]. Default none: every non-2xx answer and network error is retried.' }),
    orderedDelivery: t.boolean({ description: 'Deliver events of one entity in order (default false); other entities are not held up.' }),
    traceContext: t.boolean({ description: "Send W3C traceparent and tracestate headers with each request while Herald's tracing is on (default false)." }),
    batchWindowMs: t.int({ description: 'Batching: collect events this long (100–3600000 ms) and send them as one request; null turns it off.' }),
    batchMaxSize: t.int({ description: 'Batching: send as soon as this many events are collected (1–1000, default 100).' }),
  });
}

export const CreateWebhookInput = builder.inputType('CreateWebhookInput', { fields: webhookInputFields(true) });
const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', { fields: webhookInputFields(false) });

const WebhookFilter = builder.inputType('WebhookFilter', {
  fields: (t) => ({
    active: t.boolean(),
    topic: t.string(),
    eventType: t.string({ description: 'Webhooks that receive this event type (directly or through `topic.*`).' }),
    search: t.string({ description: 'Text in the label or description.' }),
    includeDeleted: t.boolean({ defaultValue: false }),
  }),
});

const WebhookWithSecret = builder.simpleObject('WebhookWithSecret', {
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef }),
    secret: t.string({ description: 'The signing secret (`whsec_…`). Shown now only.' }),
  }),
});

builder.queryField('webhooks', (t) =>
  t.prismaConnection({
    type: 'Webhook',
    cursor: 'id',
    authScopes: { read: true },
    args: { filter: t.arg({ type: WebhookFilter }) },
    resolve: (query, _root, { filter }, ctx) => {
      const f = filter ?? {};
      return webhookPage(
        keyset(query, 'desc', {
          tenantId: tenantOf(ctx),
          ...(f.includeDeleted ? {} : { deletedAt: null }),
          ...(f.active == null ? {} : { active: f.active }),
          ...(f.topic ? { topics: { has: f.topic } } : {}),
          ...(f.eventType ? { eventTypes: { hasSome: [f.eventType, `${f.eventType.split('.')[0]}.*`] } } : {}),
          ...(f.search
            ? { OR: [{ label: { contains: f.search, mode: 'insensitive' as const } }, { description: { contains: f.search, mode: 'insensitive' as const } }] }
            : {}),
        }),
      );
    },
  }),
);

builder.queryField('webhook', (t) =>
  t.prismaField({
    type: 'Webhook',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const webhook = await findWebhook(tenantOf(ctx), String(id));
      return webhookAs(query, webhook.id);
    },
  }),
);

builder.mutationField('createWebhook', (t) =>
  t.field({
    type: WebhookWithSecret,
    authScopes: { manage: true },
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_root, { input }, ctx) => createWebhook(tenantOf(ctx), input as DomainWebhookInput, ctx.config),
  }),
);

builder.mutationField('updateWebhook', (t) =>
  t.prismaField({
    type: 'Webhook',
    description: 'Changes what is given; the result is checked as a whole, existing conditions included.',
    authScopes: { manage: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const webhook = await updateWebhook(tenantOf(ctx), String(id), input as DomainWebhookInput, ctx.config);
      return webhookAs(query, webhook.id);
    },
  }),
);

builder.mutationField('setWebhookActive', (t) =>
  t.prismaField({
    type: 'Webhook',
    description: 'true: ACTIVE (a paused webhook sends what it held). false: DISABLED: it takes no events, and what waited or was held is cancelled; to keep them, pauseWebhook.',
    authScopes: { manage: true },
    args: { id: t.arg.id({ required: true }), active: t.arg.boolean({ required: true }) },
    resolve: async (query, _root, { id, active }, ctx) => {
      const webhook = await setWebhookState(tenantOf(ctx), String(id), active ? 'ACTIVE' : 'DISABLED');
      return webhookAs(query, webhook.id);
    },
  }),
);

/** A mutation that moves a webhook to a state and answers it. */
function stateMutation(name: string, description: string, to: 'ACTIVE' | 'PAUSED') {
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: 'Webhook',
      description,
      authScopes: { manage: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: async (query, _root, { id }, ctx) => {
        const webhook = await setWebhookState(tenantOf(ctx), String(id), to);
        return webhookAs(query, webhook.id);
      },
    }),
  );
}
stateMutation(
  'pauseWebhook',
  'Stops sending, without losing anything: matching events keep being recorded for it (PAUSED instances, counted in heldDeliveries) until it resumes.',
  'PAUSED',
);
stateMutation('resumeWebhook', 'Makes it ACTIVE and sends what it held, oldest first (per entity in order, when ordered); its failure count starts again.', 'ACTIVE');

const ReplayFilter = builder.inputType('ReplayFilter', {
  fields: (t) => ({
    since: t.field({ type: 'DateTime', required: true, description: 'Events stored at or after this.' }),
    until: t.field({ type: 'DateTime', description: 'Events stored before this (default: now).' }),
    eventTypes: t.stringList({ description: 'Only these event types (`topic.action` or `topic.*`) of those the webhook takes.' }),
    entityId: t.string({ description: 'Only events of this entity.' }),
  }),
});
const ReplayResult = builder.simpleObject('ReplayResult', {
  fields: (t) => ({
    matched: t.int({ description: `Stored events in the range that the webhook takes (as if published now: event type, conditions) and never received (at most ${MAX_REPLAY}).` }),
    created: t.int({ description: 'Deliveries created (0 for a dry run).' }),
    more: t.boolean({ description: `More than ${MAX_REPLAY} match: call again to go on (nothing replayed is replayed twice).` }),
    dryRun: t.boolean(),
  }),
});

builder.mutationField('replayEvents', (t) =>
  t.field({
    type: ReplayResult,
    description:
      'Creates deliveries for stored events this webhook never received (a new webhook backfilled, one that was off), matched as if published now; each event at most once. dryRun answers the count and changes nothing. A paused webhook holds them.',
    authScopes: { manage: true },
    args: { webhookId: t.arg.id({ required: true }), filter: t.arg({ type: ReplayFilter, required: true }), dryRun: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, { webhookId, filter, dryRun }, ctx) => replayEvents(tenantOf(ctx), String(webhookId), filter, { dryRun: dryRun ?? false }),
  }),
);

builder.mutationField('discardHeldDeliveries', (t) =>
  t.int({
    description: 'Cancels every delivery the webhook holds (PAUSED instances); its state stays as it is. Answers how many were discarded.',
    authScopes: { manage: true },
    args: { webhookId: t.arg.id({ required: true }) },
    resolve: (_root, { webhookId }, ctx) => discardHeldDeliveries(tenantOf(ctx), String(webhookId)),
  }),
);

builder.mutationField('deleteWebhook', (t) =>
  t.prismaField({
    type: 'Webhook',
    description: 'Stops the webhook for good; its delivery history stays readable.',
    authScopes: { manage: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const webhook = await deleteWebhook(tenantOf(ctx), String(id));
      return webhookAs(query, webhook.id);
    },
  }),
);

builder.mutationField('rotateWebhookSecret', (t) =>
  t.field({
    type: WebhookWithSecret,
    description: 'A new signing secret. The previous one keeps signing alongside it for `keepPreviousSeconds` (default one day).',
    authScopes: { manage: true },
    args: { id: t.arg.id({ required: true }), keepPreviousSeconds: t.arg.int({ defaultValue: 86_400 }) },
    resolve: (_root, { id, keepPreviousSeconds }, ctx) => rotateWebhookSecret(tenantOf(ctx), String(id), keepPreviousSeconds ?? 86_400),
  }),
);


