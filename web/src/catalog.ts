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
  fields: TopicField[];
}

export const TOPIC_FIELDS = `id key name description actions customActions eventTypes resourceUrlTemplate fields { path label type values mergeTag }`;

export async function loadTopics(): Promise<Topic[]> {
  const data = await gql<{ topics: { edges: { node: Topic }[] } }>(`{ topics(first: 200) { edges { node { ${TOPIC_FIELDS} } } } }`);
  return data.topics.edges.map((e) => e.node);
}

/** The topic keys named by event types (`delegate.created`, `course.*`) and triggers. */
export function topicKeysOf(events: string[], triggers: { topic: string }[]): string[] {
  return [...new Set([...events.map((e) => e.split('.')[0]!), ...triggers.map((t) => t.topic)].filter(Boolean))];
}

function sampleValue(field: TopicField): unknown {
  switch (field.type) {
    case 'INTEGER':
      return 42;
    case 'NUMBER':
      return 4.2;
    case 'BOOLEAN':
      return true;
    case 'DATE':
      return new Date().toISOString().slice(0, 10);
    case 'DATETIME':
      return new Date().toISOString();
    case 'ENUM':
      return field.values[0] ?? 'value';
    case 'ARRAY':
      return [];
    case 'OBJECT':
      return {};
    default:
      return `Example ${field.label}`;
  }
}

/** Sample entity data with a value for every catalog field (nested paths become objects). */
export function sampleData(topic: Topic | undefined): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const field of topic?.fields ?? []) {
    const parts = field.path.split('.');
    let target = data;
    for (const part of parts.slice(0, -1)) {
      if (typeof target[part] !== 'object' || target[part] === null) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[parts[parts.length - 1]!] ??= sampleValue(field);
  }
  return data;
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
