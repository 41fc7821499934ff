import { db } from '../db/client.ts';
import { conflict, notFound } from '../errors.ts';
import { FieldType, Prisma, type Topic } from '../generated/prisma/client.ts';
import { pathProblem } from './event.ts';
import { isUuid } from './values.ts';
import { IDENTIFIER, IDENTIFIER_RULE, Problems, text } from './problems.ts';
import { HERALD_TOPIC } from '../alerts/herald.ts';

/** Actions every topic has; topics may add their own (`completed`, `awarded`). */
export const BUILT_IN_ACTIONS = ['created', 'updated', 'deleted'] as const;
/** Reserved: `test` is what the test-webhook button sends. */
const RESERVED_ACTIONS = [...BUILT_IN_ACTIONS, 'test'];

export const FIELD_TYPES = Object.values(FieldType);
const MERGE_TAG = /^@@[A-Za-z][A-Za-z0-9_]*$/;
const LIMITS = { key: 64, fields: 500, customActions: 50, values: 200 };

export interface TopicFieldInput {
  path: string;
  label: string;
  type: FieldType;
  mergeTag?: string | null;
  values?: string[] | null;
}

export interface TopicInput {
  key?: string | null;
  name?: string | null;
  description?: string | null;
  resourceUrlTemplate?: string | null;
  customActions?: string[] | null;
  fields?: TopicFieldInput[] | null;
}

export type TopicRef = { id?: string | null; key?: string | null };

/** A topic's actions: created, updated, deleted and its own; a built-in topic has only its own. */
export function topicActions(topic: Pick<Topic, 'customActions' | 'builtIn'>): string[] {
  return topic.builtIn ? [...topic.customActions] : [...BUILT_IN_ACTIONS, ...topic.customActions];
}

/** Keys Herald keeps for its own topics. */
const RESERVED_KEYS = [HERALD_TOPIC];

function refuseBuiltIn(topic: Pick<Topic, 'key' | 'builtIn'>): void {
  if (topic.builtIn) throw conflict(`topic "${topic.key}" is built in: Herald raises its events and keeps it as it is`, 'key');
}

export async function findTopic(tenantId: string, ref: TopicRef): Promise<Topic> {
  const topic = await db().topic.findFirst({ where: { tenantId, ...topicWhere(ref) } });
  if (!topic) throw notFound('topic', ref.key ?? ref.id ?? '');
  return topic;
}

export async function createTopic(tenantId: string, input: TopicInput): Promise<Topic> {
  const problems = new Problems();
  const key = text(problems, 'input.key', input.key, { required: true, max: LIMITS.key });
  if (key) problems.check(IDENTIFIER.test(key), 'input.key', `must be ${IDENTIFIER_RULE} (got "${key}")`);
  if (key && RESERVED_KEYS.includes(key)) problems.add('input.key', `"${key}" is reserved for Herald's own events (the built-in topic ${key}); choose another key`);
  const data = validateTopic(problems, input, true);
  problems.throwIfAny();
  try {
    return await db().topic.create({
      data: {
        tenantId,
        key: key!,
        name: data.name!,
        description: data.description ?? '',
        resourceUrlTemplate: data.resourceUrlTemplate,
        customActions: data.customActions ?? [],
        fields: { create: data.fields ?? [] },
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`a topic with key "${key}" already exists in this tenant`, 'input.key');
    throw error;
  }
}

/** Changes what is given; `fields`, when given, replaces the whole catalog. The key never changes. */
export async function updateTopic(tenantId: string, ref: TopicRef, input: TopicInput): Promise<Topic> {
  const problems = new Problems();
  const data = validateTopic(problems, input, false);
  problems.throwIfAny();
  return db().$transaction(async (tx) => {
    const topic = await tx.topic.findFirst({ where: { tenantId, ...topicWhere(ref) }, select: { id: true, key: true, customActions: true, builtIn: true } });
    if (!topic) throw notFound('topic', ref.key ?? ref.id ?? '');
    refuseBuiltIn(topic);
    const dropped = data.customActions ? topic.customActions.filter((a) => !data.customActions!.includes(a)) : [];
    for (const action of dropped) {
      const users = await webhooksUsing(tenantId, topic.key, (types) => types.includes(`${topic.key}.${action}`));
      if (users.length > 0) {
        throw conflict(`action "${action}" is used by the webhooks ${users.join(', ')}; change them before removing it`, 'input.customActions');
      }
    }
    if (data.fields) await tx.topicField.deleteMany({ where: { topicId: topic.id } });
    return tx.topic.update({
      where: { id: topic.id },
      data: {
        name: data.name,
        description: data.description,
        resourceUrlTemplate: data.resourceUrlTemplate,
        customActions: data.customActions,
        fields: data.fields ? { create: data.fields } : undefined,
      },
    });
  });
}

/** Deletes a topic no webhook uses. */
export async function deleteTopic(tenantId: string, ref: TopicRef): Promise<Topic> {
  const topic = await findTopic(tenantId, ref);
  refuseBuiltIn(topic);
  const users = await webhooksUsing(tenantId, topic.key, (types) => types.some((t) => t.startsWith(`${topic.key}.`)));
  if (users.length > 0) {
    throw conflict(`topic "${topic.key}" is used by the webhooks ${users.join(', ')}; change or delete them first`, 'key');
  }
  await db().topic.delete({ where: { id: topic.id } });
  return topic;
}

async function webhooksUsing(tenantId: string, key: string, uses: (eventTypes: string[]) => boolean): Promise<string[]> {
  const webhooks = await db().webhook.findMany({
    where: { tenantId, deletedAt: null, topics: { has: key } },
    select: { label: true, eventTypes: true },
  });
  return webhooks.filter((w) => uses(w.eventTypes)).map((w) => JSON.stringify(w.label));
}

function topicWhere(ref: TopicRef): Prisma.TopicWhereInput {
  if (ref.id) return isUuid(ref.id) ? { id: ref.id } : { id: '00000000-0000-0000-0000-000000000000' };
  return { key: ref.key ?? '' };
}


function validateTopic(problems: Problems, input: TopicInput, creating: boolean) {
  const name = text(problems, 'input.name', input.name, { required: creating, max: 200 });
  if (!creating && input.name === null) problems.add('input.name', 'cannot be cleared: a topic needs a name');
  const description = text(problems, 'input.description', input.description, { max: 2000 });
  return {
    name,
    description: description ?? (input.description === null ? '' : undefined),
    resourceUrlTemplate: validateResourceUrl(problems, input.resourceUrlTemplate),
    customActions: validateActions(problems, input.customActions),
    fields: validateFields(problems, input.fields),
  };
}

function validateResourceUrl(problems: Problems, template: string | null | undefined): string | null | undefined {
  if (template === null || template === undefined) return template;
  const field = 'input.resourceUrlTemplate';
  const trimmed = template.trim();
  if (trimmed === '') return null;
  if (!trimmed.includes('{id}')) {
    problems.add(field, 'must contain the placeholder {id}, e.g. https://lms.example/api/courses/{id}');
    return undefined;
  }
  const others = trimmed.replaceAll('{id}', '').match(/\{[^}]*\}/g);
  if (others) {
    problems.add(field, `has unknown placeholder ${others[0]}: only {id} is allowed`);
    return undefined;
  }
  let protocol = '';
  try {
    protocol = new URL(trimmed.replaceAll('{id}', '1')).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    problems.add(field, 'must be an absolute http:// or https:// URL');
    return undefined;
  }
  return trimmed;
}

function validateActions(problems: Problems, actions: string[] | null | undefined): string[] | undefined {
  if (actions === null) return [];
  if (actions === undefined) return undefined;
  if (actions.length > LIMITS.customActions) {
    problems.add('input.customActions', `at most ${LIMITS.customActions} custom actions are allowed`);
  }
  const seen = new Set<string>();
  actions.forEach((action, i) => {
    const field = `input.customActions[${i}]`;
    if (!IDENTIFIER.test(action) || action.length > LIMITS.key) {
      problems.add(field, `must be ${IDENTIFIER_RULE}, at most ${LIMITS.key} characters (got "${action}")`);
    } else if (RESERVED_ACTIONS.includes(action)) {
      problems.add(field, `"${action}" is built in or reserved; custom actions must differ from ${RESERVED_ACTIONS.join(', ')}`);
    } else if (seen.has(action)) {
      problems.add(field, `"${action}" is listed twice`);
    }
    seen.add(action);
  });
  return actions;
}

function validateFields(problems: Problems, fields: TopicFieldInput[] | null | undefined) {
  if (fields === null) return [];
  if (fields === undefined) return undefined;
  if (fields.length > LIMITS.fields) problems.add('input.fields', `at most ${LIMITS.fields} fields are allowed`);
  const paths = new Set<string>();
  const tags = new Set<string>();
  return fields.map((f, i) => {
    const at = `input.fields[${i}]`;
    const path = f.path.trim();
    const problem = pathProblem(path);
    if (problem) {
      problems.add(`${at}.path`, `must be a dotted path of identifiers relative to the event's data, e.g. "status" or "session.id": ${problem}`);
    } else if (paths.has(path)) {
      problems.add(`${at}.path`, `"${path}" is already in the catalog; paths must be unique within a topic`);
    }
    paths.add(path);
    const label = text(problems, `${at}.label`, f.label, { required: true, max: 200 })!;
    const mergeTag = f.mergeTag?.trim() || null;
    if (mergeTag !== null) {
      if (!MERGE_TAG.test(mergeTag)) {
        problems.add(`${at}.mergeTag`, `must look like @@CandidateForename: @@ then a letter, then letters, digits or _ (got "${mergeTag}")`);
      } else if (tags.has(mergeTag)) {
        problems.add(`${at}.mergeTag`, `"${mergeTag}" is already used; merge tags must be unique within a topic`);
      }
      tags.add(mergeTag);
    }
    const values = (f.values ?? []).map((v) => v.trim());
    if (values.length > 0 && f.type !== 'ENUM') {
      problems.add(`${at}.values`, `only ENUM fields take a list of values (this field is ${f.type})`);
    }
    if (values.length > LIMITS.values) problems.add(`${at}.values`, `at most ${LIMITS.values} values are allowed`);
    if (new Set(values).size !== values.length) problems.add(`${at}.values`, 'must not repeat a value');
    return { position: i, path, label, type: f.type, mergeTag, values };
  });
}

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
