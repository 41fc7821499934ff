import { createTenant, updateTenant } from '../../usecases/tenants.ts';
import { tenantQueue } from '../../usecases/queueFigures.ts';
import { DELIVERY_WEIGHT, PUBLISH_BURST, PUBLISH_RATE, RETENTION_DAYS } from '../../rules/tenants.ts';
import { builder } from '../builder.ts';
import { keyset } from '../pages.ts';
import { ApiKeyRef } from './apiKeys.ts';
import { EnvironmentEnum } from './enums.ts';
import { tenantPage } from '../../store/tenants.ts';

export const TenantRef = builder.prismaObject('Tenant', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    environment: t.expose('environment', { type: EnvironmentEnum }),
    retentionDays: t.exposeInt('retentionDays', {
      nullable: true,
      description: "Days its finished deliveries and their events are kept, if the tenant has its own period; null: the server's HERALD_RETENTION_DAYS.",
    }),
    retentionDaysInEffect: t.int({
      description: 'Days its finished deliveries and their events are kept: its own period, else the server default. Deliveries still on their way (PENDING, RETRYING, SENDING) are kept however old; held ones (PAUSED) age out.',
      resolve: (tenant, _args, ctx) => tenant.retentionDays ?? ctx.config.retentionDays,
    }),
    deliveryWeight: t.exposeInt('deliveryWeight', {
      description: "Its part of the delivery workers' places against another tenant with deliveries waiting (2: twice a tenant of weight 1). Set by the operator.",
    }),
    publishRate: t.exposeInt('publishRate', { nullable: true, description: "Events a second it may publish, if it has its own limit; null: the server's HERALD_PUBLISH_RATE. Set by the operator." }),
    publishBurst: t.exposeInt('publishBurst', { nullable: true, description: "Events it may publish at once, if it has its own; null: the server's HERALD_PUBLISH_BURST. Set by the operator." }),
    publishLimit: t.field({
      type: PublishLimit,
      description: 'What it may publish: events a second, and at once. Over it, a publish call stores nothing and answers RATE_LIMITED with retryAfterMs (and a Retry-After header).',
      resolve: (tenant, _args, ctx) => ({ eventsPerSecond: tenant.publishRate ?? ctx.config.publishRate, burst: tenant.publishBurst ?? ctx.config.publishBurst }),
    }),
    deliveryQueue: t.field({
      type: TenantQueueRef,
      description: "What of its deliveries waits to be sent, and how long the oldest that may go has waited for a worker: Herald shares its workers between the tenants with deliveries waiting, and this tenant's take their turn.",
      resolve: (tenant) => tenantQueue(tenant.id),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const TenantQueueRef = builder.simpleObject('TenantDeliveryQueue', {
  description: "A tenant's deliveries waiting to be sent.",
  fields: (t) => ({
    waiting: t.int({ description: 'Deliveries waiting to be sent (PENDING or RETRYING).' }),
    oldestWaitingSeconds: t.float({ description: 'How long the oldest delivery that may go now has waited for a worker (0: none waits). Seconds here while other tenants send too: it waits for its share.' }),
  }),
});

const PublishLimit = builder.simpleObject('PublishLimit', {
  description: "A tenant's publish limit in effect: its own, else the server's.",
  fields: (t) => ({
    eventsPerSecond: t.int({ description: 'Events a second, on average.' }),
    burst: t.int({ description: 'Events at once (a publish call of more is refused).' }),
  }),
});

const WEIGHT_HELP = `Its part of the delivery workers against another tenant with deliveries waiting (${DELIVERY_WEIGHT.min}–${DELIVERY_WEIGHT.max}, default 1; e.g. a paid plan's tenants 4).`;
const RATE_HELP = `Events a second it may publish (${PUBLISH_RATE.min}–${PUBLISH_RATE.max}); null: the server's HERALD_PUBLISH_RATE.`;
const BURST_HELP = `Events it may publish at once (${PUBLISH_BURST.min}–${PUBLISH_BURST.max}); null: the server's HERALD_PUBLISH_BURST.`;

const RETENTION_HELP = `Days its finished deliveries and their events are kept (${RETENTION_DAYS.min}–${RETENTION_DAYS.max}); null: the server's HERALD_RETENTION_DAYS.`;

const CreateTenantInput = builder.inputType('CreateTenantInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    environment: t.field({ type: EnvironmentEnum, required: true }),
    adminKeyName: t.string({ description: 'Name of the first ADMIN key (default "admin").' }),
    retentionDays: t.int({ description: RETENTION_HELP }),
    deliveryWeight: t.int({ description: WEIGHT_HELP }),
    publishRate: t.int({ description: RATE_HELP }),
    publishBurst: t.int({ description: BURST_HELP }),
  }),
});

const UpdateTenantInput = builder.inputType('UpdateTenantInput', {
  description: 'What to change; fields left out stay as they are.',
  fields: (t) => ({
    name: t.string(),
    retentionDays: t.int({ description: `${RETENTION_HELP} The next nightly purge applies it.` }),
    deliveryWeight: t.int({ description: WEIGHT_HELP }),
    publishRate: t.int({ description: RATE_HELP }),
    publishBurst: t.int({ description: BURST_HELP }),
  }),
});

const CreatedTenant = builder.simpleObject('CreatedTenant', {
  fields: (t) => ({
    tenant: t.field({ type: TenantRef }),
    apiKey: t.field({ type: ApiKeyRef }),
    key: t.string({ description: 'The first ADMIN key. Shown once: it is stored only as a hash.' }),
  }),
});

builder.mutationField('createTenant', (t) =>
  t.field({
    description: 'Creates a tenant with its first ADMIN key. Operator key only.',
    type: CreatedTenant,
    authScopes: { operator: true },
    args: { input: t.arg({ type: CreateTenantInput, required: true }) },
    resolve: (_root, { input }) => createTenant(input),
  }),
);

builder.mutationField('updateTenant', (t) =>
  t.prismaField({
    description: "Changes a tenant's name, retention, delivery weight or publish limit. Operator key only.",
    type: 'Tenant',
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateTenantInput, required: true }) },
    resolve: (_query, _root, { id, input }) => updateTenant(String(id), input),
  }),
);

builder.queryField('tenants', (t) =>
  t.prismaConnection({
    description: 'Every tenant. Operator key only.',
    type: 'Tenant',
    cursor: 'id',
    authScopes: { operator: true },
    resolve: (query) => tenantPage(keyset(query, 'asc', {})),
  }),
);
