import { db } from '../db/client.ts';
import type { FieldType } from '../generated/prisma/client.ts';
import { BUILT_IN_ACTIONS } from './topics.ts';
import type { TopicShape } from './payload.ts';

/** A topic as webhook validation and rendering need it. */
export interface TopicInfo extends TopicShape {
  actions: string[];
  fields: Array<{ path: string; type: FieldType; values: string[]; mergeTag: string | null }>;
}

export async function loadTopics(tenantId: string): Promise<Map<string, TopicInfo>> {
  const topics = await db().topic.findMany({
    where: { tenantId },
    include: { fields: { orderBy: { position: 'asc' } } },
  });
  return new Map(
    topics.map((t) => [
      t.key,
      {
        key: t.key,
        resourceUrlTemplate: t.resourceUrlTemplate,
        actions: [...BUILT_IN_ACTIONS, ...t.customActions],
        fields: t.fields.map((f) => ({ path: f.path, type: f.type, values: f.values, mergeTag: f.mergeTag })),
        mergeTags: t.fields.filter((f) => f.mergeTag).map((f) => ({ tag: f.mergeTag!, path: f.path })),
      },
    ]),
  );
}

/** `delegate.created` and `course.*` as (topic, action) pairs. */
export function expandEventTypes(eventTypes: string[], topics: Map<string, TopicInfo>): Array<{ topic: string; action: string }> {
  return eventTypes.flatMap((type) => {
    const [topic, action] = type.split('.') as [string, string];
    if (action !== '*') return [{ topic, action }];
    return (topics.get(topic)?.actions ?? []).map((a) => ({ topic, action: a }));
  });
}
