import { conflict, notFound } from '../rules/errors.ts';
import { Prisma, type Topic } from '../generated/prisma/client.ts';
import { isUuid } from '../rules/values.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { changeTopic, insertTopic, removeTopic, tenantTopic } from '../store/topics.ts';
import { inTransaction } from '../store/transaction.ts';
import { webhooksOnTopic } from '../store/webhooks.ts';
import { IDENTIFIER, IDENTIFIER_RULE, Problems, text } from '../rules/problems.ts';
import { LIMITS, RESERVED_KEYS, validateTopic, type TopicInput, type TopicRef } from '../rules/topics.ts';

function refuseBuiltIn(topic: Pick<Topic, 'key' | 'builtIn'>): void {
  if (topic.builtIn) throw conflict(`topic "${topic.key}" is built in: Herald raises its events and keeps it as it is`, 'key');
}

export async function findTopic(tenantId: string, ref: TopicRef): Promise<Topic> {
  const topic = await tenantTopic(tenantId, topicWhere(ref));
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
    return await insertTopic({
      tenantId,
      key: key!,
      name: data.name!,
      description: data.description ?? '',
      resourceUrlTemplate: data.resourceUrlTemplate,
      customActions: data.customActions ?? [],
      entityIdType: data.entityIdType,
      fields: { create: data.fields ?? [] },
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
  return inTransaction(async (tx) => {
    const topic = await tenantTopic(tenantId, topicWhere(ref), tx);
    if (!topic) throw notFound('topic', ref.key ?? ref.id ?? '');
    refuseBuiltIn(topic);
    const dropped = data.customActions ? topic.customActions.filter((a) => !data.customActions!.includes(a)) : [];
    for (const action of dropped) {
      const users = await webhooksUsing(tenantId, topic.key, (types) => types.includes(`${topic.key}.${action}`));
      if (users.length > 0) {
        throw conflict(`action "${action}" is used by the webhooks ${users.join(', ')}; change them before removing it`, 'input.customActions');
      }
    }
    const { name, description, resourceUrlTemplate, customActions, entityIdType } = data;
    return changeTopic(tx, topic.id, { name, description, resourceUrlTemplate, customActions, entityIdType }, data.fields);
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
  await removeTopic(topic.id);
  return topic;
}

async function webhooksUsing(tenantId: string, key: string, uses: (eventTypes: string[]) => boolean): Promise<string[]> {
  const webhooks = await webhooksOnTopic(tenantId, key);
  return webhooks.filter((w) => uses(w.eventTypes)).map((w) => JSON.stringify(w.label));
}

function topicWhere(ref: TopicRef): Prisma.TopicWhereInput {
  if (ref.id) return isUuid(ref.id) ? { id: ref.id } : { id: '00000000-0000-0000-0000-000000000000' };
  return { key: ref.key ?? '' };
}

