import { cancelInstance, findInstance, instanceWhere, retrigger, retriggerMany } from '../../usecases/instances.ts';
import { AttemptTrigger, InstanceStatus } from '../../generated/prisma/client.ts';
import { withSharedBody } from '../../rules/payload.ts';
import { destination } from '../../destinations/index.ts';
import { ALSO_PUBLISHERS, builder, READERS } from '../builder.ts';
import { keyset } from '../pages.ts';
import { estimated, loadList, taken, type NestedList } from '../lists.ts';
import { firstAttempts, instanceAs, instancePage } from '../../store/instances.ts';
import { tenantOf } from '../context.ts';
import { webhookStats } from '../../rules/stats.ts';
import { ERROR_KINDS } from '../../rules/outcome.ts';
import { statusGroups } from '../../store/stats.ts';

/** Deliveries (instances) and their attempts: reading them, re-triggering and cancelling, and a webhook's counts. */

export const StatusEnum = builder.enumType(InstanceStatus, {
  name: 'InstanceStatus',
  description: 'PENDING → SENDING → COMPLETED, or RETRYING → … → FAILED; PAUSED while its webhook is paused; CANCELLED when stopped.',
});
const TriggerKindEnum = builder.enumType(AttemptTrigger, { name: 'AttemptTrigger' });

/** An instance's attempts: estimated at what they typically hold and counted while they load (lists.ts). */
const ATTEMPTS: NestedList = { name: 'Instance.attemptLog', typical: 10, default: 100, max: 1000 };


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
      resolve: (instance) => destination().shown(instance.request, withSharedBody(instance.payload, instance.event.sharedBody), instance.id) as never,
    }),
    payload: t.field({
      type: 'JSON',
      description: 'What is sent: method, url, contentType, body.',
      select: { payload: true, event: { select: { sharedBody: true } } },
      resolve: (instance) => withSharedBody(instance.payload, instance.event.sharedBody) as never,
    }),
    attemptLog: t.field({
      type: [AttemptRef],
      description: `Its attempts in order: the first \`first\` (default ${ATTEMPTS.default}, at most ${ATTEMPTS.max}).`,
      args: { first: t.arg.int() },
      complexity: ({ first }) => estimated(first, ATTEMPTS),
      resolve: (instance, { first }, ctx, info) => loadList(ctx, info, ATTEMPTS, taken(first, ATTEMPTS), instance.id, firstAttempts),
    }),
    createdAt: t.expose('createdAt', { ...ALSO_PUBLISHERS, type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});


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
      instancePage(keyset(query, 'desc', instanceWhere(tenantOf(ctx), filter ?? {}))),
  }),
);

builder.queryField('instance', (t) =>
  t.prismaField({
    type: 'Instance',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      await findInstance(tenantOf(ctx), String(id));
      return instanceAs(query, String(id));
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
      return instanceAs(query, String(id));
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
      return instanceAs(query, String(id));
    },
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
