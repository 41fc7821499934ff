import { notFound } from '../../rules/errors.ts';
import { publishEvents, type PublishInput, type PublishLimits } from '../../usecases/publish.ts';
import { eventsCarried } from '../../store/batches.ts';
import { eventPage, eventWhere, tenantEvent } from '../../store/events.ts';
import { ALSO_PUBLISHERS, builder, READERS } from '../builder.ts';
import { tenantOf } from '../context.ts';
import { estimated, loadList, taken, type NestedList } from '../lists.ts';
import { keyset } from '../pages.ts';
import { InstanceRef } from './deliveries.ts';

/** Events: what host applications publish, and how they are read back. */

/**
 * Lists inside a record are capped like pages: an event's deliveries are loaded with it
 * and estimated at their default; the events a delivery carries are estimated at what they
 * typically hold and counted while they load (lists.ts).
 */
const INSTANCES: NestedList = { name: 'Event.instances', typical: 100, default: 100, max: 100 };
const CARRIED: NestedList = { name: 'Instance.events', typical: 1, default: 1000, max: 1000 };

const ActorInput = builder.inputType('ActorInput', {
  fields: (t) => ({
    type: t.string({ required: true, description: '`admin`, `learner`, `system`, …' }),
    id: t.string(),
  }),
});

export const EventInputRef = builder.inputType('EventInput', {
  description: 'Something that happened in the host application.',
  fields: (t) => ({
    topic: t.string({ required: true }),
    action: t.string({ required: true, description: '`created`, `updated`, `deleted` or a custom action of the topic.' }),
    entityId: t.string({ required: true }),
    data: t.field({ type: 'JSON', description: "The entity's fields now (left out on deletes)." }),
    previous: t.field({ type: 'JSON', description: 'The entity before the change, if known.' }),
    changedFields: t.stringList({ description: 'Paths that changed, when previous data is not sent.' }),
    actor: t.field({ type: ActorInput }),
    clientId: t.string(),
    correlationId: t.string(),
    occurredAt: t.field({ type: 'DateTime' }),
  }),
});

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
      description: `Its deliveries, one per webhook it matched, oldest first: the first \`first\` (at most ${INSTANCES.max}; page with instances(filter: { eventId })).`,
      args: { first: t.arg.int({ defaultValue: INSTANCES.default }) },
      complexity: ({ first }) => estimated(first, INSTANCES),
      query: ({ first }) => ({ orderBy: { id: 'asc' }, take: taken(first, INSTANCES) }),
    }),
  }),
});

builder.prismaObjectField('Instance', 'events', (t) =>
t.field({
  type: [EventRef],
    description: `The events it carries: one, or those of its batch in order (batching webhooks): the first \`first\` (default ${CARRIED.default}, at most ${CARRIED.max}).`,
    args: { first: t.arg.int() },
    complexity: ({ first }) => estimated(first, CARRIED),
    resolve: (instance, { first }, ctx, info) => loadList(ctx, info, CARRIED, taken(first, CARRIED), instance.id, eventsCarried),
  })
);

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
    resolve: (query, _root, { filter }, ctx) => eventPage(keyset(query, 'desc', eventWhere(tenantOf(ctx), filter ?? {}))),
  }),
);

builder.queryField('event', (t) =>
  t.prismaField({
    type: 'Event',
    description: "One published event of the tenant (another tenant's is NOT_FOUND).",
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const event = await tenantEvent(query, tenantOf(ctx), String(id));
      if (!event) throw notFound('event', String(id));
      return event;
    },
  }),
);
