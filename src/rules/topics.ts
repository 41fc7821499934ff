import type { FieldType } from '../generated/prisma/enums.ts';
import { pathProblem } from './paths.ts';
import { HERALD_TOPIC } from './heraldTopic.ts';
import type { TopicShape } from './payload.ts';
import { IDENTIFIER, IDENTIFIER_RULE, Problems, text } from './problems.ts';

/** Topics: their actions, their field catalogs and how a topic's settings are checked. */

/** Actions every topic has; topics may add their own (`completed`, `awarded`). */
export const BUILT_IN_ACTIONS = ['created', 'updated', 'deleted'] as const;
/** Reserved: `test` is what the test-webhook button sends. */
const RESERVED_ACTIONS = [...BUILT_IN_ACTIONS, 'test'];

const MERGE_TAG = /^@@[A-Za-z][A-Za-z0-9_]*$/;
export const LIMITS = { key: 64, fields: 500, customActions: 50, values: 200 };

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
  entityIdType?: EntityIdType | null;
  fields?: TopicFieldInput[] | null;
}

/** What a topic's entity ids look like. */
export type EntityIdType = 'STRING' | 'INTEGER' | 'UUID';

/** Why an entity id is not of its topic's kind (null when it is). */
export function entityIdProblem(type: EntityIdType, entityId: string): string | null {
  if (type === 'INTEGER' && !/^-?\d{1,18}$/.test(entityId)) return `must be a whole number (topic entity ids are INTEGER), got "${entityId.slice(0, 40)}"`;
  if (type === 'UUID' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(entityId)) return `must be a UUID (topic entity ids are UUID), got "${entityId.slice(0, 40)}"`;
  return null;
}

export type TopicRef = { id?: string | null; key?: string | null };

/** A topic's actions: created, updated, deleted and its own; a built-in topic has only its own. */
export function topicActions(topic: { customActions: string[]; builtIn: boolean }): string[] {
  return topic.builtIn ? [...topic.customActions] : [...BUILT_IN_ACTIONS, ...topic.customActions];
}

/** Keys Herald keeps for its own topics. */
export const RESERVED_KEYS = [HERALD_TOPIC];

/** A topic as webhook validation and rendering need it. */
export interface TopicInfo extends TopicShape {
  actions: string[];
  entityIdType: EntityIdType;
  fields: Array<{ path: string; type: FieldType; values: string[]; mergeTag: string | null }>;
}

/** A topic as stored, read as JSON. */
export interface TopicRow {
  key: string;
  resourceUrlTemplate: string | null;
  customActions: string[];
  builtIn: boolean;
  entityIdType: EntityIdType;
  fields: Array<{ path: string; type: FieldType; values: string[]; mergeTag: string | null }>;
}

export function topicMap(topics: TopicRow[]): Map<string, TopicInfo> {
  return new Map(
    topics.map((t) => [
      t.key,
      {
        key: t.key,
        resourceUrlTemplate: t.resourceUrlTemplate,
        actions: topicActions(t),
        entityIdType: t.entityIdType ?? 'STRING',
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

export function validateTopic(problems: Problems, input: TopicInput, creating: boolean) {
  const name = text(problems, 'input.name', input.name, { required: creating, max: 200 });
  if (!creating && input.name === null) problems.add('input.name', 'cannot be cleared: a topic needs a name');
  const description = text(problems, 'input.description', input.description, { max: 2000 });
  return {
    name,
    description: description ?? (input.description === null ? '' : undefined),
    resourceUrlTemplate: validateResourceUrl(problems, input.resourceUrlTemplate),
    customActions: validateActions(problems, input.customActions),
    entityIdType: input.entityIdType ?? undefined,
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
