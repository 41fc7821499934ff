import type { EventShape } from './eventShape.ts';
import { writePath } from './paths.ts';
import type { EntityIdType, TopicInfo } from './topics.ts';

const SAMPLE = { STRING: 'sample', NUMBER: 1.5, INTEGER: 1, BOOLEAN: true, DATE: '2026-01-01', DATETIME: '2026-01-01T09:00:00.000Z', OBJECT: {}, ARRAY: [] };

/** Data with a value of the right type for every catalog field (an ENUM's first value; nested paths become objects). */
export function sampleData(fields: Array<Pick<TopicInfo['fields'][number], 'path' | 'type' | 'values'>>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const field of fields) writePath(data, field.path, field.type === 'ENUM' ? (field.values[0] ?? 'sample') : structuredClone(SAMPLE[field.type]));
  return data;
}

/** An entity id of the topic's kind, for a sample (a template that writes the id as a number renders). */
export function sampleEntityId(type: EntityIdType): string {
  return type === 'INTEGER' ? '1' : type === 'UUID' ? '00000000-0000-4000-8000-000000000001' : 'sample-1';
}

/** An event of the topic with sample data: what the Test button sends (action `test`) when the tenant has no real one. */
export function sampleEvent(topic: TopicInfo, id: string, now: Date): EventShape {
  return {
    id,
    topic: topic.key,
    action: 'test',
    entityId: sampleEntityId(topic.entityIdType),
    data: sampleData(topic.fields),
    previous: null,
    changedFields: null,
    actor: { type: 'system', id: null },
    clientId: null,
    correlationId: null,
    occurredAt: now,
  };
}
