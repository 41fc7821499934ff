import { randomUUID } from 'node:crypto';
import type { Event } from '../generated/prisma/client.ts';
import type { EventShape } from './eventShape.ts';
import { pathProblem } from './paths.ts';
import { IDENTIFIER, Problems, text } from './problems.ts';
import { entityIdProblem, type TopicInfo } from './topics.ts';


export interface EventInput {
  topic: string;
  action: string;
  entityId: string;
  data?: unknown;
  previous?: unknown;
  changedFields?: string[] | null;
  actor?: { type: string; id?: string | null } | null;
  clientId?: string | null;
  correlationId?: string | null;
  occurredAt?: Date | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks an event against the tenant's topics and gives it the shape the pure modules use. */
export function checkEvent(problems: Problems, at: string, input: EventInput, topics: Map<string, TopicInfo>): EventShape {
  const topic = topics.get(input.topic);
  if (!topic) {
    const known = [...topics.keys()].sort();
    problems.add(`${at}.topic`, `unknown topic "${input.topic}"; topics: ${known.length ? known.join(', ') : 'none yet'}`);
  } else if (!topic.actions.includes(input.action)) {
    problems.add(`${at}.action`, `topic ${topic.key} has no action "${input.action}"; its actions: ${topic.actions.join(', ')}`);
  }
  if (!IDENTIFIER.test(input.action)) problems.add(`${at}.action`, 'must be a lower-case identifier such as created or completed');
  const entityId = text(problems, `${at}.entityId`, input.entityId, { required: true, max: 200 }) ?? '';
  const idProblem = topic && entityId ? entityIdProblem(topic.entityIdType, entityId) : null;
  if (idProblem) problems.add(`${at}.entityId`, idProblem);
  const deleted = input.action === 'deleted';
  let data: Record<string, unknown> | null = null;
  if (input.data !== undefined && input.data !== null) {
    if (isObject(input.data)) data = input.data;
    else problems.add(`${at}.data`, `must be a JSON object (the entity's fields), got ${Array.isArray(input.data) ? 'an array' : typeof input.data}`);
  } else if (!deleted) {
    problems.add(`${at}.data`, "is required: the entity's fields now (only delete events may leave it out)");
  }
  let previous: Record<string, unknown> | null = null;
  if (input.previous !== undefined && input.previous !== null) {
    if (isObject(input.previous)) previous = input.previous;
    else problems.add(`${at}.previous`, 'must be a JSON object (the entity before the change)');
  }
  const changedFields = input.changedFields ?? null;
  changedFields?.forEach((f, i) => {
    const problem = pathProblem(f);
    if (problem) problems.add(`${at}.changedFields[${i}]`, problem);
  });
  const actor = input.actor ? { type: input.actor.type.trim(), id: input.actor.id ?? null } : null;
  if (actor && !/^[a-z][a-z0-9_]{0,49}$/.test(actor.type)) problems.add(`${at}.actor.type`, 'must be a lower-case word such as admin, learner or system');
  return {
    id: randomUUID(),
    topic: input.topic,
    action: input.action,
    entityId,
    data,
    previous,
    changedFields,
    actor,
    clientId: text(problems, `${at}.clientId`, input.clientId, { max: 200 }) ?? null,
    correlationId: text(problems, `${at}.correlationId`, input.correlationId, { max: 200 }) ?? null,
    occurredAt: input.occurredAt ?? new Date(),
  };
}

/** Whether a webhook's event types (`delegate.created`, `course.*`) include an event's type. */
export function wants(eventTypes: string[], topic: string, action: string): boolean {
  return eventTypes.includes(`${topic}.${action}`) || eventTypes.includes(`${topic}.*`);
}

/** A stored event in the shape the pure modules use. */
export function eventShapeOf(event: Event): EventShape {
  return {
    id: event.id,
    topic: event.topic,
    action: event.action,
    entityId: event.entityId,
    data: (event.data as Record<string, unknown> | null) ?? null,
    previous: (event.previous as Record<string, unknown> | null) ?? null,
    changedFields: event.changedFields.length ? event.changedFields : null,
    actor: (event.actor as EventShape['actor']) ?? null,
    clientId: event.clientId,
    correlationId: event.correlationId,
    occurredAt: event.occurredAt,
  };
}
