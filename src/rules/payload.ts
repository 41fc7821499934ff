import { eventType, type EventShape } from './eventShape.ts';
import { changedPaths, readPath, writePath } from './paths.ts';
import {
  compileTemplate,
  isTemplateError,
  RENDER_LIMITS,
  renderTemplate,
  type MergeTag,
  type TemplateFormat,
  type TemplateVariables,
} from './template.ts';

export type PayloadMode = 'CHANGES' | 'ID_ONLY' | 'ID_AND_MODIFIED_FIELDS' | 'SELECTED_FIELDS' | 'FULL' | 'CUSTOM';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a webhook says about its payload. */
export interface PayloadSpec {
  url: string;
  method: HttpMethod;
  mode: PayloadMode;
  selectedFields: string[];
  template: string | null;
  templateFormat: TemplateFormat | null;
}

/** What a topic contributes: its resource URL and merge tags. */
export interface TopicShape {
  key: string;
  resourceUrlTemplate: string | null;
  mergeTags: MergeTag[];
}

export interface RenderedPayload {
  method: HttpMethod;
  url: string;
  /** null when there is no body (GET). */
  contentType: string | null;
  body: string;
}

/**
 * Bodies stored once: the body most of an event's payloads send (two or more) is kept with the event and left out of theirs.
 * Answers each event's shared body; the rows' payloads are replaced, the rendered ones not changed.
 */
export function keepBodiesOnce(rows: Array<{ eventId: string; payload: unknown }>): Map<string, string> {
  const counts = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const body = bodyOf(row.payload);
    if (body === undefined) continue;
    const byBody = counts.get(row.eventId) ?? new Map<string, number>();
    byBody.set(body, (byBody.get(body) ?? 0) + 1);
    counts.set(row.eventId, byBody);
  }
  const shared = new Map<string, string>();
  for (const [eventId, byBody] of counts) {
    let best: [string, number] | undefined;
    for (const entry of byBody) if (entry[1] >= 2 && (!best || entry[1] > best[1])) best = entry;
    if (best) shared.set(eventId, best[0]);
  }
  for (const row of rows) {
    const body = bodyOf(row.payload);
    if (body !== undefined && shared.get(row.eventId) === body) {
      const { body: _kept, ...rest } = row.payload as RenderedPayload;
      row.payload = rest;
    }
  }
  return shared;
}

/** A stored payload as it is sent: with its event's shared body when it has none of its own. */
export function withSharedBody(payload: unknown, sharedBody: string | null | undefined): unknown {
  if (!payload || typeof payload !== 'object' || 'body' in payload || !('url' in payload) || sharedBody == null) return payload;
  return { ...payload, body: sharedBody };
}

const bodyOf = (payload: unknown) => (payload && typeof payload === 'object' && typeof (payload as { body?: unknown }).body === 'string' ? (payload as { body: string }).body : undefined);

export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}

export const CONTENT_TYPES: Record<TemplateFormat, string> = {
  JSON: 'application/json',
  XML: 'application/xml; charset=utf-8',
  FORM: 'application/x-www-form-urlencoded',
  TEXT: 'text/plain; charset=utf-8',
};

export function resourceUrl(topic: Pick<TopicShape, 'resourceUrlTemplate'>, entityId: string): string | null {
  return topic.resourceUrlTemplate ? topic.resourceUrlTemplate.replaceAll('{id}', encodeURIComponent(entityId)) : null;
}

/** The fields of `data` that changed: the host's list, else the difference from `previous`. */
export function modifiedFields(event: EventShape): string[] {
  if (event.changedFields) return event.changedFields;
  if (event.previous && event.data) return changedPaths(event.previous, event.data);
  return [];
}

/**
 * The default body: the event's lean envelope (Absorb's event name, ids, client and
 * correlation ids) and, by mode, the entity's data. Delete events carry only the id.
 */
export function envelope(event: EventShape, topic: TopicShape, spec: Pick<PayloadSpec, 'mode' | 'selectedFields'>) {
  const body: Record<string, unknown> = {
    id: event.id,
    type: eventType(event),
    topic: event.topic,
    action: event.action,
    entityId: event.entityId,
    occurredAt: event.occurredAt.toISOString(),
    actor: event.actor,
    clientId: event.clientId,
    correlationId: event.correlationId,
    resourceUrl: resourceUrl(topic, event.entityId),
  };
  if (!event.data || spec.mode === 'ID_ONLY' || spec.mode === 'CUSTOM') return body;
  if (spec.mode === 'FULL') return { ...body, data: event.data };
  const paths = spec.mode === 'SELECTED_FIELDS' ? spec.selectedFields : modifiedFields(event);
  const data: Record<string, unknown> = {};
  for (const path of paths) {
    const value = readPath(event.data, path);
    writePath(data, path, value === undefined ? null : value);
  }
  return spec.mode === 'ID_AND_MODIFIED_FIELDS' ? { ...body, changedFields: paths, data } : { ...body, data };
}

/**
 * The method, URL, content type and body a webhook sends for an event. GET puts the
 * payload in the query string; DELETE adds the entity id to it (`?id=`); `{id}` in
 * the webhook's URL is the entity id.
 */
export function renderPayload(spec: PayloadSpec, event: EventShape, topic: TopicShape): RenderedPayload {
  return renderBatch(spec, [event], new Map([[event.topic, topic]]), event.entityId);
}

/**
 * Springest's change: `{action: import|update|destroy, object, id, url}`; no url on destroy.
 * A custom action named `import` is an import; created, updated and other actions are updates.
 */
export function change(event: EventShape, topic: TopicShape) {
  const action = event.action === 'deleted' ? 'destroy' : event.action === 'import' ? 'import' : 'update';
  const id = /^\d{1,15}$/.test(event.entityId) ? Number(event.entityId) : event.entityId;
  const url = action === 'destroy' ? null : resourceUrl(topic, event.entityId);
  return { action, object: event.topic, id, ...(url ? { url } : {}) };
}

/**
 * Collapses a batch so an object appears once: the last event of each (topic, entity)
 * wins, in the order of those last events (created then deleted leaves the delete).
 */
export function collapse(events: EventShape[]): EventShape[] {
  const last = new Map<string, EventShape>();
  for (const event of events) {
    const key = `${event.topic}\u0000${event.entityId}`;
    last.delete(key);
    last.set(key, event);
  }
  return [...last.values()];
}

/**
 * The request for one event, or for a batch of them (batching webhooks): CHANGES
 * sends `{"changes": [...]}`, the other JSON modes `{"events": [envelope, ...]}`.
 */
export function renderBatch(spec: PayloadSpec, events: EventShape[], topics: Map<string, TopicShape>, entityId: string | null = null): RenderedPayload {
  const single = events.length === 1 && entityId !== null;
  const event = events[0]!;
  const url = new URL(spec.url.replaceAll('{id}', encodeURIComponent(entityId ?? '')));
  let body: string;
  let contentType: string;
  if (spec.mode === 'CHANGES') {
    body = JSON.stringify({ changes: collapse(events).map((e) => change(e, topics.get(e.topic)!)) });
    contentType = CONTENT_TYPES.JSON;
  } else if (!single) {
    body = JSON.stringify({ events: collapse(events).map((e) => envelope(e, topics.get(e.topic)!, spec)) });
    contentType = CONTENT_TYPES.JSON;
  } else if (spec.mode === 'CUSTOM') {
    const topic = topics.get(event.topic)!;
    const format = spec.templateFormat ?? 'JSON';
    body = renderCustom(spec.template ?? '', format, event, topic);
    contentType = CONTENT_TYPES[format];
  } else {
    body = JSON.stringify(envelope(event, topics.get(event.topic)!, spec));
    contentType = CONTENT_TYPES.JSON;
  }
  if (spec.method === 'DELETE' && single) url.searchParams.set('id', event.entityId);
  if (spec.method !== 'GET') return { method: spec.method, url: url.toString(), contentType, body };
  if (contentType === CONTENT_TYPES.FORM) {
    for (const [name, value] of new URLSearchParams(body)) url.searchParams.append(name, value);
  } else if (contentType === CONTENT_TYPES.JSON && spec.mode !== 'CUSTOM' && spec.mode !== 'CHANGES' && single) {
    for (const [name, value] of flatten(JSON.parse(body))) url.searchParams.append(name, value);
  } else {
    url.searchParams.set('payload', body);
  }
  return { method: 'GET', url: url.toString(), contentType: null, body: '' };
}

function renderCustom(template: string, format: TemplateFormat, event: EventShape, topic: TopicShape): string {
  const compiled = compileTemplate(template, format, topic.mergeTags);
  if (isTemplateError(compiled)) {
    throw new RenderError(`template error at line ${compiled.line}, column ${compiled.column}: ${compiled.message}`);
  }
  const vars: TemplateVariables = {
    event: envelope(event, topic, { mode: 'ID_ONLY', selectedFields: [] }) as TemplateVariables['event'],
    data: event.data,
    previous: event.previous,
    changedFields: modifiedFields(event),
    actor: event.actor,
  };
  let body: string;
  try {
    body = renderTemplate(compiled, format, vars, topic.mergeTags, (path) => readPath(event.data, path));
  } catch (error) {
    const message = (error as Error).message;
    if (/render limit exceeded/i.test(message)) throw new RenderError(`the template took longer than ${RENDER_LIMITS.renderMs} ms to render (a loop that runs too long?)`);
    if (/memory limit exceeded/i.test(message)) throw new RenderError('the template used too much memory while rendering (strings or loops too large?)');
    throw new RenderError(`template could not be rendered: ${message}`);
  }
  if (Buffer.byteLength(body) > RENDER_LIMITS.bodyBytes) throw new RenderError(`the template rendered ${Buffer.byteLength(body)} bytes; a body may be at most ${RENDER_LIMITS.bodyBytes}`);
  if (format === 'JSON') {
    try {
      JSON.parse(body);
    } catch (error) {
      throw new RenderError(`the template rendered invalid JSON (${(error as Error).message}); check the quotes around merge fields`);
    }
  }
  return body;
}

/** Flattens a JSON value into query parameters: `data.status=Booked`; arrays as JSON. */
function flatten(value: unknown, prefix = ''): Array<[string, string]> {
  if (value === null || value === undefined) return prefix ? [[prefix, '']] : [];
  if (typeof value !== 'object' || Array.isArray(value)) {
    return [[prefix, typeof value === 'string' ? value : JSON.stringify(value)]];
  }
  return Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
}
