import { db } from '../../db/client.ts';
import { notFound } from '../../rules/errors.ts';
import { cancelInstance, findInstance, instanceWhere, retrigger, retriggerMany } from '../../usecases/instances.ts';
import { publishEvents, type PublishInput, type PublishLimits } from '../../usecases/publish.ts';
import { AttemptTrigger, InstanceStatus } from '../../generated/prisma/client.ts';
import { withSharedBody } from '../../rules/payload.ts';
import { shownRequest } from '../../rules/request.ts';
import { ALSO_PUBLISHERS, builder, READERS } from '../builder.ts';
import { keyset } from '../pages.ts';
import { loadList, taken, type NestedList } from '../lists.ts';
import { firstAttempts } from '../../store/instances.ts';
import { eventsCarried } from '../../store/batches.ts';
import { tenantOf } from '../context.ts';
import { EventInputRef } from './events.ts';
import { CreateWebhookInput } from './webhooks.ts';
import { testSample, testWebhook } from '../../usecases/testWebhook.ts';
import { loadTopics } from '../../store/catalog.ts';
import { webhookStats } from '../../rules/stats.ts';
import { ERROR_KINDS } from '../../rules/outcome.ts';
import { statusGroups } from '../../store/stats.ts';

export const StatusEnum = builder.enumType(InstanceStatus, {
  name: 'InstanceStatus',
  description: 'PENDING → SENDING → COMPLETED, or RETRYING → … → FAILED; PAUSED while its webhook is paused; CANCELLED when stopped.',
});
const TriggerKindEnum = builder.enumType(AttemptTrigger, { name: 'AttemptTrigger' });

/**
 * Lists inside a record are capped like pages. An event's instances are loaded with it and
 * estimated at their default; an instance's attempts and events are estimated at what they
 * typically hold and counted while they load (lists.ts).
 */
const LISTS = {
  instances: { name: 'Event.instances', typical: 100, default: 100, max: 100 },
  attempts: { name: 'Instance.attemptLog', typical: 10, default: 100, max: 1000 },
  batchEvents: { name: 'Instance.events', typical: 1, default: 1000, max: 1000 },
} satisfies Record<string, NestedList>;
/** What a list costs in the estimate: what it typically holds, unless `first` asks for more or less. */
const estimated = (first: number | null | undefined, list: NestedList) => ({ field: 1, multiplier: first == null ? list.typical : taken(first, list) });

export const EventRef = builder.prismaObject('Event', {
  ...READERS,
  fields: (t) => ({
    id: t.exposeID('id', ALSO_PUBLISHERS),
    type: t.string({ ...ALSO_PUBLISHERS, resolve: (e) => `${e.topic}.${e.action}` }),
    topic: t.exposeString('topic', ALSO_PUBLISHERS),
    action: t.exposeString('action', ALSO_PUBLISHERS),
    entityId: t.exposeString('entityId', ALSO_PUBLISHERS),
    data: t.expose('data', { type: 'JSON', nullable: true }),
    previous: t.expose('previous', { type: 'JSON', nullable: true }),
    changedFields: t.exposeStringList('changedFields'),
    actor: t.expose('actor', { type: 'JSON', nullable: true }),
    clientId: t.exposeString('clientId', { nullable: true }),
    correlationId: t.exposeString('correlationId', { nullable: true }),
    idempotencyKey: t.exposeString('idempotencyKey', { ...ALSO_PUBLISHERS, nullable: true }),
    occurredAt: t.expose('occurredAt', { ...ALSO_PUBLISHERS, type: 'DateTime' }),
    createdAt: t.expose('createdAt', { ...ALSO_PUBLISHERS, type: 'DateTime' }),
    instances: t.relation('instances', {
      description: `Its deliveries, one per webhook it matched, oldest first: the first \`first\` (at most ${LISTS.instances.max}; page with instances(filter: { eventId })).`,
      args: { first: t.arg.int({ defaultValue: LISTS.instances.default }) },
      complexity: ({ first }) => estimated(first, LISTS.instances),
      query: ({ first }) => ({ orderBy: { id: 'asc' }, take: taken(first, LISTS.instances) }),
    }),
  }),
});

const AttemptRef = builder.prismaObject('Attempt', {
  ...READERS,
  description: 'One try at sending an instance.',
  fields: (t) => ({
    number: t.exposeInt('number'),
    trigger: t.expose('trigger', { type: TriggerKindEnum }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    durationMs: t.exposeInt('durationMs'),
    statusCode: t.exposeInt('statusCode', { nullable: true }),
    errorKind: t.exposeString('errorKind', { nullable: true, description: ERROR_KINDS.join(', ') }),
    message: t.exposeString('message', { nullable: true }),
    responseBody: t.exposeString('responseBody', { nullable: true, description: 'The first 4 KiB of the answer.' }),
    location: t.exposeString('location', { nullable: true, description: 'Where a redirect pointed (redirects are not followed).' }),
  }),
});

/** Why an instance waits, in words: from itself, and from its webhook's limits and gate (Webhook.circuit says more). */
function waitingReason(i: {
  status: string;
  held: boolean;
  parked: boolean;
  nextAttemptAt: Date | null;
  webhook: { rateLimitPerSecond: number | null; rateLimitInFlight: number | null; gate: { openUntil: Date | null; inFlightWindow: number | null } | null };
}): string | null {
  if (i.status === 'PAUSED') return 'held while its webhook is paused: sent when it resumes';
  if (i.parked) return "its webhook's receiver keeps failing: it waits while Herald probes with one delivery at a time, and goes once one succeeds";
  if (i.held) return 'waiting for an earlier delivery of the same entity (ordered delivery)';
  if (i.status === 'RETRYING') return i.nextAttemptAt ? `retrying at ${i.nextAttemptAt.toISOString()}` : 'retrying';
  if (i.status !== 'PENDING') return null;
  const { rateLimitPerSecond: perSecond, rateLimitInFlight: inFlight, gate } = i.webhook;
  if (gate?.openUntil && gate.openUntil > new Date()) return `the receiver asked to wait: nothing goes to it before ${gate.openUntil.toISOString()}`;
  if (gate?.inFlightWindow != null) return `the receiver asked to slow down: at most ${gate.inFlightWindow} requests at once for now`;
  if (perSecond !== null || inFlight !== null) {
    const limits = [perSecond !== null ? `${perSecond} per second` : null, inFlight !== null ? `${inFlight} at once` : null].filter(Boolean).join(', ');
    return `in turn, under the webhook's rate limit (${limits})`;
  }
  return null;
}

export const InstanceRef = builder.prismaObject('Instance', {
  ...READERS,
  description: 'One delivery of one event to one webhook, with every attempt.',
  fields: (t) => ({
    id: t.exposeID('id', ALSO_PUBLISHERS),
    webhook: t.relation('webhook', ALSO_PUBLISHERS),
    event: t.relation('event', ALSO_PUBLISHERS),
    entityId: t.exposeString('entityId', ALSO_PUBLISHERS),
    status: t.expose('status', { ...ALSO_PUBLISHERS, type: StatusEnum }),
    attempts: t.exposeInt('attempts'),
    held: t.exposeBoolean('held', { description: 'Waiting for an earlier delivery of the same entity (ordered webhooks).' }),
    parked: t.exposeBoolean('parked', { description: "Waiting for its webhook's circuit to close (its receiver keeps failing): sent when a probe succeeds." }),
    waitingReason: t.string({
      nullable: true,
      description: 'Why it is not on its way yet, when it waits (PENDING, RETRYING or PAUSED).',
      select: {
        status: true,
        held: true,
        parked: true,
        nextAttemptAt: true,
        webhook: { select: { rateLimitPerSecond: true, rateLimitInFlight: true, gate: { select: { openUntil: true, inFlightWindow: true } } } },
      },
      resolve: (i) => waitingReason(i),
    }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastMessage: t.exposeString('lastMessage', { nullable: true }),
    lastDurationMs: t.exposeInt('lastDurationMs', { nullable: true }),
    lastErrorKind: t.exposeString('lastErrorKind', { nullable: true, description: `The last attempt's: ${ERROR_KINDS.join(', ')}` }),
    request: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The last request sent: method, url, headers (secret values hidden), body.',
      select: { request: true, payload: true, event: { select: { sharedBody: true } } },
      resolve: (instance) => shownRequest(instance.request, withSharedBody(instance.payload, instance.event.sharedBody), instance.id) as never,
    }),
    payload: t.field({
      type: 'JSON',
      description: 'What is sent: method, url, contentType, body.',
      select: { payload: true, event: { select: { sharedBody: true } } },
      resolve: (instance) => withSharedBody(instance.payload, instance.event.sharedBody) as never,
    }),
    attemptLog: t.field({
      type: [AttemptRef],
      description: `Its attempts in order: the first \`first\` (default ${LISTS.attempts.default}, at most ${LISTS.attempts.max}).`,
      args: { first: t.arg.int() },
      complexity: ({ first }) => estimated(first, LISTS.attempts),
      resolve: (instance, { first }, ctx, info) => loadList(ctx, info, LISTS.attempts, taken(first, LISTS.attempts), instance.id, firstAttempts),
    }),
    events: t.field({
      type: [EventRef],
      description: `The events it carries: one, or those of its batch in order (batching webhooks): the first \`first\` (default ${LISTS.batchEvents.default}, at most ${LISTS.batchEvents.max}).`,
      args: { first: t.arg.int() },
      complexity: ({ first }) => estimated(first, LISTS.batchEvents),
      resolve: (instance, { first }, ctx, info) => loadList(ctx, info, LISTS.batchEvents, taken(first, LISTS.batchEvents), instance.id, eventsCarried),
    }),
    createdAt: t.expose('createdAt', { ...ALSO_PUBLISHERS, type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const PublishInputRef = builder.inputType('PublishEventInput', {
  fields: (t) => ({
    event: t.field({ type: EventInputRef, required: true }),
    idempotencyKey: t.string({ description: 'The same key within the tenant returns the first event and sends nothing again.' }),
  }),
});

const Published = builder.simpleObject('PublishResult', {
  fields: (t) => ({
    event: t.field({ type: EventRef }),
    instances: t.field({ type: [InstanceRef] }),
    duplicate: t.boolean({ description: 'The idempotency key was seen before: this is the first event.' }),
  }),
});

async function publish(tenantId: string, inputs: Array<{ event: PublishInput; idempotencyKey?: string | null }>, limits: PublishLimits, at: string) {
  return publishEvents(tenantId, inputs.map((i) => ({ ...i.event, idempotencyKey: i.idempotencyKey })), limits, at);
}

builder.mutationField('publishEvent', (t) =>
  t.field({
    type: Published,
    description: 'Publishes one event. Once this answers, every matching delivery is stored and will be sent.',
    authScopes: { publish: true },
    args: { input: t.arg({ type: PublishInputRef, required: true }) },
    resolve: async (_root, { input }, ctx) => (await publish(tenantOf(ctx), [input as never], ctx.config, 'input'))[0]!,
  }),
);

builder.mutationField('publishEvents', (t) =>
  t.field({
    type: [Published],
    description: 'Publishes up to 1,000 events in one transaction.',
    authScopes: { publish: true },
    args: { inputs: t.arg({ type: [PublishInputRef], required: true }) },
    resolve: (_root, { inputs }, ctx) => publish(tenantOf(ctx), inputs as never, ctx.config, 'inputs'),
  }),
);

const InstanceFilter = builder.inputType('InstanceFilter', {
  fields: (t) => ({
    webhookId: t.id(),
    statuses: t.field({ type: [StatusEnum] }),
    eventId: t.id(),
    entityId: t.string(),
    eventType: t.string({ description: 'One event type, `topic.action` (`course.created`); a Test button\'s deliveries are `topic.test`.' }),
    since: t.field({ type: 'DateTime', description: 'Created at or after.' }),
    until: t.field({ type: 'DateTime', description: 'Created before.' }),
    updatedSince: t.field({ type: 'DateTime', description: 'Changed at or after (to catch up after a reconnect).' }),
  }),
});

builder.queryField('instances', (t) =>
  t.prismaConnection({
    type: 'Instance',
    cursor: 'id',
    description: 'Deliveries, newest first.',
    authScopes: { read: true },
    args: { filter: t.arg({ type: InstanceFilter }) },
    resolve: (query, _root, { filter }, ctx) =>
      db().instance.findMany({ ...keyset(query, 'desc', instanceWhere(tenantOf(ctx), filter ?? {})), orderBy: { id: 'desc' } }),
  }),
);

builder.queryField('instance', (t) =>
  t.prismaField({
    type: 'Instance',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      await findInstance(tenantOf(ctx), String(id));
      return db().instance.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
);

const EventFilter = builder.inputType('EventFilter', {
  fields: (t) => ({
    topic: t.string(),
    action: t.string({ description: 'With topic: one event type (`topic.action`).' }),
    entityId: t.string(),
    since: t.field({ type: 'DateTime' }),
    until: t.field({ type: 'DateTime' }),
  }),
});

builder.queryField('events', (t) =>
  t.prismaConnection({
    type: 'Event',
    cursor: 'id',
    description: 'Published events, newest first.',
    authScopes: { read: true },
    args: { filter: t.arg({ type: EventFilter }) },
    resolve: (query, _root, { filter }, ctx) => {
      const f = filter ?? {};
      return db().event.findMany({
        ...keyset(query, 'desc', {
          tenantId: tenantOf(ctx),
          ...(f.topic ? { topic: f.topic } : {}),
          ...(f.action ? { action: f.action } : {}),
          ...(f.entityId ? { entityId: f.entityId } : {}),
          ...(f.since || f.until ? { createdAt: { ...(f.since ? { gte: f.since } : {}), ...(f.until ? { lt: f.until } : {}) } } : {}),
        }),
        orderBy: { id: 'desc' },
      });
    },
  }),
);

builder.queryField('event', (t) =>
  t.prismaField({
    type: 'Event',
    description: "One published event of the tenant (another tenant's is NOT_FOUND).",
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const event = await db().event.findFirst({ ...query, where: { id: String(id), tenantId: tenantOf(ctx) } });
      if (!event) throw notFound('event', String(id));
      return event;
    },
  }),
);

builder.mutationField('retriggerInstance', (t) =>
  t.prismaField({
    type: 'Instance',
    description: 'Sends the instance again now, whatever its status, also past its maximum attempts (trigger MANUAL).',
    authScopes: { operate: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      await retrigger(tenantOf(ctx), String(id));
      return db().instance.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
);

const RetriggerFilter = builder.inputType('RetriggerFilter', {
  fields: (t) => ({
    webhookId: t.id({ required: true }),
    statuses: t.field({ type: [StatusEnum], defaultValue: ['FAILED'] }),
    eventType: t.string({ description: 'Only deliveries of this event type, `topic.action`.' }),
    since: t.field({ type: 'DateTime' }),
    until: t.field({ type: 'DateTime' }),
  }),
});

builder.mutationField('retriggerInstances', (t) =>
  t.int({
    description: "Sends a webhook's instances again in bulk (by default every FAILED one, up to 100,000); answers how many. dryRun answers how many it would and sends none.",
    authScopes: { operate: true },
    args: { filter: t.arg({ type: RetriggerFilter, required: true }), dryRun: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, { filter, dryRun }, ctx) => retriggerMany(tenantOf(ctx), filter, dryRun ?? false),
  }),
);

builder.mutationField('cancelInstance', (t) =>
  t.prismaField({
    type: 'Instance',
    description: 'Stops an instance that is PENDING or RETRYING; other statuses are left as they are.',
    authScopes: { operate: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      await cancelInstance(tenantOf(ctx), String(id));
      return db().instance.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
);

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

const StatusCount = builder.simpleObject('StatusCount', { fields: (t) => ({ status: t.field({ type: StatusEnum }), count: t.int() }) });
const WebhookStats = builder.simpleObject('WebhookStats', {
  ...READERS,
  fields: (t) => ({
    total: t.int(),
    byStatus: t.field({ type: [StatusCount] }),
    successRate: t.float({ nullable: true, description: 'COMPLETED / (COMPLETED + FAILED); null before any finished.' }),
    lastDeliveryAt: t.field({ type: 'DateTime', nullable: true }),
    lastSuccessAt: t.field({ type: 'DateTime', nullable: true, description: 'When a delivery last turned COMPLETED.' }),
    lastFailureAt: t.field({ type: 'DateTime', nullable: true, description: 'When a delivery last turned FAILED (out of retries).' }),
  }),
});

builder.prismaObjectField('Webhook', 'stats', (t) =>
  t.loadable({
    type: WebhookStats,
    description: 'Counts of its instances by status, and its success rate.',
    // Every webhook of a page in one statement, however many are listed.
    load: async (ids: string[]) => (await statusGroups(ids)).map(webhookStats),
    resolve: (webhook) => webhook.id,
  }),
);
