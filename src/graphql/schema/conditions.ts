import { Combinator } from '../../generated/prisma/enums.ts';
import type { ConditionInput as DomainConditionInput } from '../../rules/webhookSettings.ts';
import { conditionAs } from '../../store/webhooks.ts';
import { addCondition, removeCondition, updateCondition } from '../../usecases/webhooks.ts';
import { builder, READERS } from '../builder.ts';
import { tenantOf } from '../context.ts';
import { OperatorEnum } from './enums.ts';

/** A webhook's conditions: the tree's rules and groups, and changing them one at a time. */

export const MatchEnum = builder.enumType(Combinator, { name: 'ConditionMatch', description: 'ALL: every condition must hold. ANY: one is enough.' });

builder.prismaObject('Condition', {
  ...READERS,
  description: 'A rule on the event (`data.status IN [Completed]`), or a group of conditions combined by ALL or ANY.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.exposeString('kind', { description: 'RULE or GROUP' }),
    match: t.field({ type: MatchEnum, nullable: true, resolve: (c) => c.combinator }),
    path: t.exposeString('path', { nullable: true }),
    operator: t.field({ type: OperatorEnum, nullable: true, resolve: (c) => c.operator as never }),
    values: t.field({ type: ['JSON'], resolve: (c) => (c.values as unknown[]) ?? [] }),
    // A webhook's whole tree holds at most WEBHOOK_LIMITS.conditions, counted once at its top level (below).
    children: t.relation('children', { query: { orderBy: { position: 'asc' } }, complexity: { field: 1, multiplier: 1 } }),
  }),
});

const RuleInput = builder.inputType('RuleInput', {
  fields: (t) => ({
    path: t.string({ required: true, description: '`data.status`, `previous.status`, `actor.type`, `entityId`, `action`, `clientId`, …' }),
    operator: t.field({ type: OperatorEnum, required: true }),
    values: t.field({ type: ['JSON'], description: 'Typed by the catalog field: text, numbers, true/false, ISO dates.' }),
  }),
});
export const ConditionInput = builder.inputRef<DomainConditionInput>('ConditionInput');
const GroupInput = builder.inputType('GroupInput', {
  fields: (t) => ({
    match: t.field({ type: MatchEnum, required: true }),
    conditions: t.field({ type: [ConditionInput], required: true }),
  }),
});
ConditionInput.implement({
  description: 'Exactly one of `rule` or `group`.',
  fields: (t) => ({ rule: t.field({ type: RuleInput }), group: t.field({ type: GroupInput }) }),
});

builder.mutationField('addCondition', (t) =>
  t.prismaField({
    type: 'Condition',
    authScopes: { manage: true },
    args: {
      webhookId: t.arg.id({ required: true }),
      parentId: t.arg.id({ description: 'A group to add to; the top level when left out.' }),
      condition: t.arg({ type: ConditionInput, required: true }),
    },
    resolve: async (query, _root, args, ctx) => {
      const condition = await addCondition(tenantOf(ctx), String(args.webhookId), args.parentId ? String(args.parentId) : null, args.condition);
      return conditionAs(query, condition.id);
    },
  }),
);

const UpdateConditionInput = builder.inputType('UpdateConditionInput', {
  fields: (t) => ({
    path: t.string(),
    operator: t.field({ type: OperatorEnum }),
    values: t.field({ type: ['JSON'] }),
    match: t.field({ type: MatchEnum, description: 'For groups.' }),
  }),
});

builder.mutationField('updateCondition', (t) =>
  t.prismaField({
    type: 'Condition',
    authScopes: { manage: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateConditionInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const condition = await updateCondition(tenantOf(ctx), String(id), input);
      return conditionAs(query, condition.id);
    },
  }),
);

const RemovedCondition = builder.simpleObject('RemovedCondition', {
  fields: (t) => ({ id: t.id(), webhookId: t.id() }),
});

builder.mutationField('removeCondition', (t) =>
  t.field({
    type: RemovedCondition,
    description: 'Removes a condition; removing a group removes what it holds.',
    authScopes: { manage: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const removed = await removeCondition(tenantOf(ctx), String(id));
      return { id: removed.id, webhookId: removed.webhookId };
    },
  }),
);
