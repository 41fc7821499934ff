// Topics and their field catalogs, as the webhook form and conditions builder use them.
import { gql } from './api.ts';

export interface TopicField {
  path: string;
  label: string;
  type: string;
  values: string[];
  mergeTag: string | null;
}

export interface Topic {
  id: string;
  key: string;
  name: string;
  description: string;
  actions: string[];
  customActions: string[];
  eventTypes: string[];
  resourceUrlTemplate: string | null;
  /** STRING, INTEGER or UUID: what its entity ids look like. */
  entityIdType: string;
  fields: TopicField[];
  /** A value of the right type for every catalog field (Herald's sample, as the Test button sends). */
  sampleData: Record<string, unknown>;
}

export const TOPIC_FIELDS = `id key name description actions customActions eventTypes resourceUrlTemplate entityIdType sampleData fields { path label type values mergeTag }`;

export async function loadTopics(): Promise<Topic[]> {
  const data = await gql<{ topics: { edges: { node: Topic }[] } }>(`{ topics(first: 200) { edges { node { ${TOPIC_FIELDS} } } } }`);
  return data.topics.edges.map((e) => e.node);
}

/** The topic keys named by event types (`delegate.created`, `course.*`) and triggers. */
export function topicKeysOf(events: string[], triggers: { topic: string }[]): string[] {
  return [...new Set([...events.map((e) => e.split('.')[0]!), ...triggers.map((t) => t.topic)].filter(Boolean))];
}

/** Turns what a person typed into the JSON value the catalog field expects. */
export function typedValue(text: string, field: TopicField | undefined): unknown {
  const trimmed = text.trim();
  if (field?.type === 'INTEGER' || field?.type === 'NUMBER') return trimmed !== '' && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : trimmed;
  if (field?.type === 'BOOLEAN') return trimmed === 'true' ? true : trimmed === 'false' ? false : trimmed;
  if (field) return trimmed;
  try {
    return JSON.parse(trimmed);
  } catch {
    return trimmed;
  }
}
