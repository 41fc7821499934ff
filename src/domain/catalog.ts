import { query } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { FieldType } from '../generated/prisma/client.ts';
import { BUILT_IN_ACTIONS } from './topics.ts';
import type { TopicShape } from './payload.ts';

/** A topic as webhook validation and rendering need it. */
export interface TopicInfo extends TopicShape {
  actions: string[];
  fields: Array<{ path: string; type: FieldType; values: string[]; mergeTag: string | null }>;
}

/** The tenant's topics with their field catalogs (one plain query: every publish reads this). */
export async function loadTopics(tenantId: string): Promise<Map<string, TopicInfo>> {
  const topics = await query<{ key: string; resource_url_template: string | null; custom_actions: string[]; fields: Array<{ path: string; type: FieldType; values: string[]; mergeTag: string | null }> }>(Prisma.sql`
    SELECT t.key, t.resource_url_template, t.custom_actions,
      COALESCE((SELECT json_agg(json_build_object('path', f.path, 'type', f.type, 'values', f.values, 'mergeTag', f.merge_tag) ORDER BY f.position)
        FROM topic_field f WHERE f.topic_id = t.id), '[]') AS fields
    FROM topic t WHERE t.tenant_id = ${tenantId}::uuid`);
  return new Map(
    topics.map((t) => [
      t.key,
      {
        key: t.key,
        resourceUrlTemplate: t.resource_url_template,
        actions: [...BUILT_IN_ACTIONS, ...t.custom_actions],
        fields: t.fields,
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
