import { createTopic, deleteTopic, findTopic, updateTopic } from '../../usecases/topics.ts';
import { InputError } from '../../rules/errors.ts';
import { sampleData } from '../../rules/sample.ts';
import { builder, READERS } from '../builder.ts';
import { keyset } from '../pages.ts';
import { topicAs, topicPage } from '../../store/topics.ts';
import { tenantOf } from '../context.ts';
import { EntityIdTypeEnum, FieldTypeEnum } from './enums.ts';
import { topicActions, type TopicRef } from '../../rules/topics.ts';

builder.prismaObject('TopicField', {
  ...READERS,
  description: "One entry of a topic's field catalog: used by selected fields, conditions and templates.",
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Path inside the event data, e.g. `status` or `session.id`.' }),
    label: t.exposeString('label'),
    type: t.expose('type', { type: FieldTypeEnum }),
    mergeTag: t.exposeString('mergeTag', { nullable: true, description: 'e.g. `@@CandidateForename`' }),
    values: t.exposeStringList('values', { description: 'Allowed values, for ENUM fields.' }),
  }),
});

builder.prismaObject('Topic', {
  ...READERS,
  description: 'A category of events, usually one entity type (`user`, `course`, `delegate`).',
  fields: (t) => ({
    id: t.exposeID('id'),
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    resourceUrlTemplate: t.exposeString('resourceUrlTemplate', { nullable: true }),
    customActions: t.exposeStringList('customActions'),
    entityIdType: t.expose('entityIdType', { type: EntityIdTypeEnum, description: 'What its entity ids look like; publishes with another kind are refused.' }),
    builtIn: t.exposeBoolean('builtIn', { description: "Made and kept by Herald (the `herald` topic of Herald's own happenings): read-only; subscribe to it like any topic." }),
    actions: t.stringList({
      description: 'Every action: created, updated, deleted and the custom ones.',
      resolve: (topic) => topicActions(topic),
    }),
    eventTypes: t.stringList({
      description: 'Every event type of this topic, `topic.action`.',
      resolve: (topic) => topicActions(topic).map((action) => `${topic.key}.${action}`),
    }),
    fields: t.relation('fields', { query: { orderBy: { position: 'asc' } } }),
    sampleData: t.field({
      type: 'JSON',
      description: 'Data with a value of the right type for every catalog field: what the Test button sends.',
      select: { fields: { select: { path: true, type: true, values: true }, orderBy: { position: 'asc' } } },
      resolve: (topic) => sampleData(topic.fields),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const TopicFieldInput = builder.inputType('TopicFieldInput', {
  fields: (t) => ({
    path: t.string({ required: true }),
    label: t.string({ required: true }),
    type: t.field({ type: FieldTypeEnum, required: true }),
    mergeTag: t.string(),
    values: t.stringList(),
  }),
});

const topicInputFields = (t: Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0]) => ({
  description: t.string(),
  resourceUrlTemplate: t.string({ description: 'URL of the entity in the host application, with `{id}`.' }),
  customActions: t.stringList({ description: 'Actions beyond created/updated/deleted, e.g. `completed`.' }),
  entityIdType: t.field({ type: EntityIdTypeEnum, description: 'STRING (the default), INTEGER or UUID: what its entity ids look like.' }),
  fields: t.field({ type: [TopicFieldInput], description: 'The field catalog; on update it replaces the whole catalog.' }),
});

const CreateTopicInput = builder.inputType('CreateTopicInput', {
  fields: (t) => ({
    key: t.string({ required: true, description: 'Lower-case identifier, unique in the tenant, e.g. `delegate`.' }),
    name: t.string({ required: true }),
    ...topicInputFields(t),
  }),
});

const UpdateTopicInput = builder.inputType('UpdateTopicInput', {
  fields: (t) => ({ name: t.string(), ...topicInputFields(t) }),
});

const refArgs = builder.args((t) => ({
  id: t.id({ description: 'The topic id; give this or `key`.' }),
  key: t.string({ description: 'The topic key; give this or `id`.' }),
}));

function ref(args: { id?: string | number | null; key?: string | null }): TopicRef {
  const given = [args.id, args.key].filter((v) => v !== null && v !== undefined);
  if (given.length !== 1) throw new InputError([{ field: 'id', message: 'give exactly one of `id` or `key`' }]);
  return { id: args.id === null || args.id === undefined ? undefined : String(args.id), key: args.key };
}

builder.queryField('topics', (t) =>
  t.prismaConnection({
    description: "The tenant's topics, by key.",
    type: 'Topic',
    cursor: 'id',
    authScopes: { read: true },
    args: { search: t.arg.string({ description: 'Text in the key, name or description.' }) },
    resolve: (query, _root, { search }, ctx) =>
      topicPage(
        keyset(query, 'asc', {
          tenantId: tenantOf(ctx),
          ...(search ? { OR: ['key', 'name', 'description'].map((field) => ({ [field]: { contains: search, mode: 'insensitive' as const } })) } : {}),
        }),
      ),
  }),
);

builder.queryField('topic', (t) =>
  t.prismaField({
    type: 'Topic',
    authScopes: { read: true },
    args: refArgs,
    resolve: async (query, _root, args, ctx) => {
      const topic = await findTopic(tenantOf(ctx), ref(args));
      return topicAs(query, topic.id);
    },
  }),
);

builder.mutationField('createTopic', (t) =>
  t.prismaField({
    type: 'Topic',
    authScopes: { manage: true },
    args: { input: t.arg({ type: CreateTopicInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const topic = await createTopic(tenantOf(ctx), input);
      return topicAs(query, topic.id);
    },
  }),
);

builder.mutationField('updateTopic', (t) =>
  t.prismaField({
    type: 'Topic',
    authScopes: { manage: true },
    args: { ...refArgs, input: t.arg({ type: UpdateTopicInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const topic = await updateTopic(tenantOf(ctx), ref(args), args.input);
      return topicAs(query, topic.id);
    },
  }),
);

const DeletedTopic = builder.simpleObject('DeletedTopic', {
  fields: (t) => ({ id: t.id(), key: t.string() }),
});

builder.mutationField('deleteTopic', (t) =>
  t.field({
    type: DeletedTopic,
    authScopes: { manage: true },
    args: refArgs,
    resolve: async (_root, args, ctx) => {
      const topic = await deleteTopic(tenantOf(ctx), ref(args));
      return { id: topic.id, key: topic.key };
    },
  }),
);
