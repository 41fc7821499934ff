// Topics and their field catalogs, as the webhook form and conditions builder use them.
import { gql } from './api.ts';
import { graphql, type ResultOf } from './graphql.ts';

/** A topic as the dashboard reads it (`sampleData`: a value of the right type for every catalog field, as the Test button sends). */
export const TOPIC = graphql(`
  fragment Topic on Topic { id key name description actions customActions eventTypes resourceUrlTemplate entityIdType sampleData fields { path label type values mergeTag } }
`);
export type Topic = ResultOf<typeof TOPIC>;
export type TopicField = Topic['fields'][number];

const TOPICS = graphql(`{ topics(first: 200) { edges { node { ...Topic } } } }`, [TOPIC]);

export async function loadTopics(): Promise<Topic[]> {
  const data = await gql(TOPICS);
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
