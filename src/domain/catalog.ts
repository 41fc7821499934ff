import { query } from '../db/client.ts';
import { Prisma, type FieldType } from '../generated/prisma/client.ts';
import { topicActions } from './topics.ts';
import type { TopicShape } from './payload.ts';

/** A topic as webhook validation and rendering need it. */
export interface TopicInfo extends TopicShape {
  actions: string[];
  fields: Array<{ path: string; type: FieldType; values: string[]; mergeTag: string | null }>;
}

/** A topic as stored, read as JSON. */
export interface TopicRow {
  key: string;
  resourceUrlTemplate: string | null;
  customActions: string[];
  builtIn: boolean;
  fields: Array<{ path: string; type: FieldType; values: string[]; mergeTag: string | null }>;
}

/** A subquery: the tenant's topics with their field catalogs as one JSON array (so a caller can read more in the same query). */
export function topicsJson(tenantId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT COALESCE(json_agg(json_build_object('key', t.key, 'resourceUrlTemplate', t.resource_url_template, 'customActions', t.custom_actions, 'builtIn', t.built_in,
      'fields', COALESCE((SELECT json_agg(json_build_object('path', f.path, 'type', f.type, 'values', f.values, 'mergeTag', f.merge_tag) ORDER BY f.position)
        FROM topic_field f WHERE f.topic_id = t.id), '[]'))), '[]')
    FROM topic t WHERE t.tenant_id = ${tenantId}::uuid`;
}

/** The tenant's topics with their field catalogs (one plain query: every publish reads them). */
export async function loadTopics(tenantId: string): Promise<Map<string, TopicInfo>> {
  const [row] = await query<{ topics: TopicRow[] }>(Prisma.sql`SELECT (${topicsJson(tenantId)}) AS topics`);
  return topicMap(row!.topics);
}

export function topicMap(topics: TopicRow[]): Map<string, TopicInfo> {
  return new Map(
    topics.map((t) => [
      t.key,
      {
        key: t.key,
        resourceUrlTemplate: t.resourceUrlTemplate,
        actions: topicActions(t),
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
