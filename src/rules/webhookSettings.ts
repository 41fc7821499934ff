import type { Combinator, HttpMethod, PayloadMode, Prisma, TemplateFormat, Webhook } from '../generated/prisma/client.ts';
import { checkConditionTree, CONDITION_LIMITS, contextOf, type ConditionInput } from './conditionTree.ts';
import { IDENTIFIER, Problems, text } from './problems.ts';
import { DEFAULT_RETRY_SCHEDULE_MS, MAX_RETRY_DELAY_MS } from './retry.ts';
import { generateSecret } from './signing.ts';
import { compileTemplate, isTemplateError } from './template.ts';
import type { TopicInfo } from './topics.ts';

export type { ConditionInput };

/**
 * A webhook's settings: what may be given, how each is checked (every problem named
 * by its field), and what a webhook ends up with. Plain functions of the input, the
 * stored webhook and the tenant's topics.
 */

/** ACTIVE sends; PAUSED records deliveries without sending them; DISABLED (off, or deleted) takes no events. */
export type WebhookState = 'ACTIVE' | 'PAUSED' | 'DISABLED';

export function stateOf(webhook: { active: boolean; pausedAt: Date | null; deletedAt?: Date | null }): WebhookState {
  if (webhook.deletedAt) return 'DISABLED';
  return webhook.active ? 'ACTIVE' : webhook.pausedAt ? 'PAUSED' : 'DISABLED';
}

export type Trigger = 'CREATE' | 'UPDATE' | 'CREATE_OR_UPDATE' | 'DELETE';
export const TRIGGER_ACTIONS: Record<Trigger, string[]> = {
  CREATE: ['created'],
  UPDATE: ['updated'],
  CREATE_OR_UPDATE: ['created', 'updated'],
  DELETE: ['deleted'],
};

export interface HeaderInput {
  name: string;
  value: string;
  /** Secret values are never shown again (Authorization and API-key headers always are). */
  secret?: boolean | null;
}
export interface StoredHeader {
  name: string;
  value: string;
  secret: boolean;
}

export interface WebhookInput {
  label?: string | null;
  description?: string | null;
  active?: boolean | null;
  events?: string[] | null;
  triggers?: Array<{ topic: string; trigger: Trigger }> | null;
  url?: string | null;
  method?: HttpMethod | null;
  headers?: HeaderInput[] | null;
  payloadMode?: PayloadMode | null;
  selectedFields?: string[] | null;
  template?: string | null;
  templateFormat?: TemplateFormat | null;
  conditionMatch?: Combinator | null;
  conditions?: ConditionInput[] | null;
  timeoutMs?: number | null;
  maxAttempts?: number | null;
  backoffBaseMs?: number | null;
  backoffCapMs?: number | null;
  /** Delays before attempts 2, 3, …; null or empty: exponential backoff. */
  retryScheduleMs?: number[] | null;
  finalStatusCodes?: number[] | null;
  /** Null clears it. */
  rateLimit?: { perSecond?: number | null; maxInFlight?: number | null } | null;
  orderedDelivery?: boolean | null;
  traceContext?: boolean | null;
  batchWindowMs?: number | null;
  batchMaxSize?: number | null;
}

export interface WebhookLimits {
  minBackoffMs: number;
}

export const WEBHOOK_LIMITS = { url: 2048, headers: 30, headerValue: 4096, eventTypes: 100, ...CONDITION_LIMITS, selected: 200, template: 100_000 };
const FORBIDDEN_HEADERS = [
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'content-type', 'user-agent',
  'webhook-id', 'webhook-timestamp', 'webhook-signature',
];
/** Headers whose values are always secret, whatever the input says. */
export const SECRET_HEADERS = ['authorization', 'cookie', 'x-api-key', 'api-key', 'x-auth-token'];
/** Headers that carry credentials by their name, wherever they are shown. */
export const isCredentialHeader = (name: string) => SECRET_HEADERS.includes(name.toLowerCase()) || /authorization|cookie|token|secret|api[-_]?key|password/i.test(name);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node refuses to send in a header value (line breaks, NUL, other controls, anything past Latin-1). */
const UNSENDABLE_IN_HEADER = /[^\t\x20-\x7e\xa0-\xff]/u;

/** The settings a webhook ends up with: everything the rules look at, validated together. */
export type Resolved = Omit<Prisma.WebhookUncheckedCreateInput, 'tenantId' | 'secret' | 'conditions' | 'headers'> & {
  eventTypes: string[];
  topics: string[];
  headers: StoredHeader[];
};

/** Checks a new webhook's settings and conditions against the tenant's topics. */
export function checkNewSettings(input: WebhookInput, topics: Map<string, TopicInfo>, limits: WebhookLimits, at = 'input') {
  const problems = new Problems();
  const resolved = resolve(problems, input, undefined, topics, limits);
  const conditions = input.conditions ?? [];
  checkConditionTree(problems, 'input.conditions', conditions, contextOf(resolved, topics), 1, { count: 0 });
  if (at !== 'input') problems.list.forEach((p) => (p.field = p.field.replace(/^input/, at)));
  problems.throwIfAny();
  return { resolved, conditions };
}

/**
 * Settings of a webhook that is not saved yet, in the shape a saved one has, signed
 * with an example secret (for previews and the Test button).
 */
export function unsavedSettings(resolved: Resolved) {
  return {
    ...resolved,
    url: resolved.url,
    method: resolved.method!,
    mode: resolved.payloadMode!,
    selectedFields: resolved.selectedFields as string[],
    template: resolved.template ?? null,
    templateFormat: resolved.templateFormat ?? null,
    timeoutMs: resolved.timeoutMs!,
    finalStatusCodes: resolved.finalStatusCodes as number[],
    orderedDelivery: resolved.orderedDelivery ?? false,
    traceContext: resolved.traceContext ?? false,
    batchWindowMs: resolved.batchWindowMs ?? null,
    secret: generateSecret(),
    previousSecret: null,
    previousSecretUntil: null,
  };
}

// ---- settings -----------------------------------------------------------------

export function resolve(problems: Problems, input: WebhookInput, current: Webhook | undefined, topics: Map<string, TopicInfo>, limits: WebhookLimits): Resolved {
  const creating = !current;
  const pick = <K extends keyof WebhookInput>(key: K, fallback: NonNullable<WebhookInput[K]>) =>
    (input[key] ?? (current as unknown as WebhookInput)?.[key] ?? fallback) as NonNullable<WebhookInput[K]>;

  const label = text(problems, 'input.label', input.label, { required: creating, max: 200 });
  if (!creating && input.label === null) problems.add('input.label', 'cannot be cleared: a webhook needs a label');
  const description = text(problems, 'input.description', input.description, { max: 5000 });
  const eventTypes =
    input.events != null || input.triggers != null || creating
      ? resolveEventTypes(problems, input.events ?? [], input.triggers ?? [], topics)
      : current!.eventTypes;
  const url = input.url != null || creating ? checkUrl(problems, input.url) : current!.url;
  const method = pick('method', 'POST');
  const headers = input.headers != null ? checkHeaders(problems, input.headers) : ((current?.headers as unknown as StoredHeader[]) ?? []);
  const payloadMode = pick('payloadMode', 'FULL');
  const selectedFields = pick('selectedFields', []).map((f) => f.trim());
  const template = input.template !== undefined ? input.template : (current?.template ?? null);
  const templateFormat = input.templateFormat !== undefined ? input.templateFormat : (current?.templateFormat ?? null);
  const wanted = [...new Set(eventTypes.map((t) => t.split('.')[0]!))].map((k) => topics.get(k)).filter(Boolean) as TopicInfo[];
  checkPayload(problems, { payloadMode, selectedFields, template, templateFormat }, wanted);

  const timeoutMs = pick('timeoutMs', 10_000);
  const range = rangeCheck(problems);
  range('timeoutMs', timeoutMs, 1000, 30_000, 'milliseconds');
  const retry = resolveRetry(problems, input, current, limits);
  const finalStatusCodes = input.finalStatusCodes != null ? checkFinalStatusCodes(problems, input.finalStatusCodes) : (current?.finalStatusCodes ?? []);
  const rateLimit =
    input.rateLimit !== undefined ? checkRateLimit(problems, input.rateLimit) : { rateLimitPerSecond: current?.rateLimitPerSecond ?? null, rateLimitInFlight: current?.rateLimitInFlight ?? null };
  const orderedDelivery = pick('orderedDelivery', false);
  const batchWindowMs = input.batchWindowMs !== undefined ? input.batchWindowMs : (current?.batchWindowMs ?? null);
  const batchMaxSize = pick('batchMaxSize', 100);
  if (batchWindowMs !== null) {
    range('batchWindowMs', batchWindowMs, 100, 3_600_000, 'milliseconds (or null for no batching)');
    range('batchMaxSize', batchMaxSize, 1, 1000, 'events');
    if (payloadMode === 'CUSTOM') problems.add('input.payloadMode', 'a batching webhook sends JSON (CHANGES, or the envelopes of its events); CUSTOM templates render one event each');
    if (orderedDelivery) problems.add('input.orderedDelivery', 'cannot be combined with batching: a batch already carries each object once, in the order of its last change');
  }

  return {
    label: label ?? current!.label,
    description: description ?? (input.description === null ? '' : (current?.description ?? '')),
    active: input.active ?? current?.active ?? false,
    eventTypes,
    topics: [...new Set(eventTypes.map((t) => t.split('.')[0]!))],
    url: url ?? current?.url ?? '',
    method,
    headers,
    payloadMode,
    selectedFields: payloadMode === 'SELECTED_FIELDS' ? selectedFields : [],
    template: payloadMode === 'CUSTOM' ? template : null,
    templateFormat: payloadMode === 'CUSTOM' ? (templateFormat ?? 'JSON') : null,
    conditionMatch: pick('conditionMatch', 'ALL'),
    orderedDelivery,
    traceContext: pick('traceContext', false),
    batchWindowMs,
    batchMaxSize,
    timeoutMs,
    ...retry,
    finalStatusCodes,
    ...rateLimit,
  };
}

/** A rate limit: requests per second (0.01–10000) and/or requests in flight at once (1–1000); null: none. */
function checkRateLimit(problems: Problems, limit: WebhookInput['rateLimit']) {
  const perSecond = limit?.perSecond ?? null;
  const maxInFlight = limit?.maxInFlight ?? null;
  if (limit && perSecond === null && maxInFlight === null) problems.add('input.rateLimit', 'give perSecond, maxInFlight or both (or rateLimit: null for no limit)');
  if (perSecond !== null && !(Number.isFinite(perSecond) && perSecond >= 0.01 && perSecond <= 10_000)) {
    problems.add('input.rateLimit.perSecond', `must be from 0.01 to 10000 requests per second (got ${perSecond})`);
  }
  if (maxInFlight !== null) rangeCheck(problems)('rateLimit.maxInFlight', maxInFlight, 1, 1000, 'requests at once');
  return { rateLimitPerSecond: perSecond, rateLimitInFlight: maxInFlight };
}

/**
 * The retry policy: an explicit schedule (given, or the default for a new webhook that
 * sets no backoff), or exponential backoff (backoffBaseMs/backoffCapMs given, or an
 * empty schedule). A schedule given without maxAttempts makes one attempt per delay, plus the first.
 */
function resolveRetry(problems: Problems, input: WebhookInput, current: Webhook | undefined, limits: WebhookLimits) {
  const backoffGiven = input.backoffBaseMs != null || input.backoffCapMs != null;
  const scheduleGiven = input.retryScheduleMs !== undefined;
  const schedule = scheduleGiven ? (input.retryScheduleMs ?? []) : backoffGiven ? [] : (current?.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS);
  if (scheduleGiven && schedule.length > 0 && backoffGiven) {
    problems.add('input.retryScheduleMs', 'give either a retry schedule or backoffBaseMs/backoffCapMs (exponential backoff), not both');
  }
  if (schedule.length > 99) problems.add('input.retryScheduleMs', `at most 99 delays (a webhook makes at most 100 attempts); got ${schedule.length}`);
  schedule.forEach((delay, i) => {
    if (!Number.isInteger(delay) || delay < limits.minBackoffMs || delay > MAX_RETRY_DELAY_MS) {
      problems.add(`input.retryScheduleMs[${i}]`, `must be a whole number of milliseconds from ${limits.minBackoffMs} to ${MAX_RETRY_DELAY_MS} (7 days) (got ${delay})`);
    }
  });
  const scheduleSet = scheduleGiven && schedule.length > 0;
  const maxAttempts = input.maxAttempts ?? (scheduleSet || (!current && schedule.length > 0) ? Math.min(100, schedule.length + 1) : (current?.maxAttempts ?? 5));
  const backoffBaseMs = input.backoffBaseMs ?? current?.backoffBaseMs ?? 30_000;
  const backoffCapMs = input.backoffCapMs ?? current?.backoffCapMs ?? 3_600_000;
  const range = rangeCheck(problems);
  range('maxAttempts', maxAttempts, 1, 100, 'attempts');
  range('backoffBaseMs', backoffBaseMs, limits.minBackoffMs, 3_600_000, 'milliseconds');
  range('backoffCapMs', backoffCapMs, Math.max(backoffBaseMs, limits.minBackoffMs), 86_400_000, 'milliseconds');
  return { maxAttempts, backoffBaseMs, backoffCapMs, retryScheduleMs: schedule };
}

/** A check that a whole number setting lies within bounds, naming the field and the bounds. */
function rangeCheck(problems: Problems) {
  return (field: string, value: number, min: number, max: number, unit: string) => problems.range(`input.${field}`, value, min, max, unit);
}

/** Status codes that fail a delivery at once: 300–599 (a 2xx answer is a delivery), each once. */
function checkFinalStatusCodes(problems: Problems, codes: number[]): number[] {
  if (codes.length > 50) problems.add('input.finalStatusCodes', `at most 50 status codes (got ${codes.length})`);
  codes.forEach((code, i) => {
    if (!Number.isInteger(code) || code < 300 || code > 599) {
      problems.add(`input.finalStatusCodes[${i}]`, `must be an HTTP status code from 300 to 599 (got ${code}); a 2xx answer is a successful delivery`);
    }
  });
  return [...new Set(codes)].sort((a, b) => a - b);
}

function resolveEventTypes(problems: Problems, events: string[], triggers: Array<{ topic: string; trigger: Trigger }>, topics: Map<string, TopicInfo>): string[] {
  const known = [...topics.keys()].sort();
  const knownList = known.length ? known.join(', ') : 'none yet: create a topic first';
  const types: string[] = [];
  events.forEach((raw, i) => {
    const at = `input.events[${i}]`;
    const type = raw.trim();
    const [topic, action, extra] = type.split('.');
    if (!topic || !action || extra !== undefined || !IDENTIFIER.test(topic) || !(action === '*' || IDENTIFIER.test(action))) {
      problems.add(at, `"${raw}" is not an event type: expected topic.action such as delegate.created, or topic.* for every action`);
      return;
    }
    const info = topics.get(topic);
    if (!info) return problems.add(at, `unknown topic "${topic}"; topics: ${knownList}`);
    if (action !== '*' && !info.actions.includes(action)) {
      return problems.add(at, `topic ${topic} has no action "${action}"; its actions: ${info.actions.join(', ')} (or * for all)`);
    }
    types.push(`${topic}.${action}`);
  });
  triggers.forEach(({ topic, trigger }, i) => {
    const info = topics.get(topic.trim());
    if (!info) return problems.add(`input.triggers[${i}].topic`, `unknown topic "${topic}"; topics: ${knownList}`);
    types.push(...TRIGGER_ACTIONS[trigger].map((a) => `${info.key}.${a}`));
  });
  if (events.length + triggers.length === 0) {
    problems.add('input.events', 'a webhook needs at least one event type (e.g. delegate.created) or trigger');
  }
  if (types.length > WEBHOOK_LIMITS.eventTypes) problems.add('input.events', `at most ${WEBHOOK_LIMITS.eventTypes} event types`);
  // `topic.*` covers every action of its topic: keep it and drop the single ones.
  const wildcards = new Set(types.filter((t) => t.endsWith('.*')).map((t) => t.split('.')[0]));
  return [...new Set(types.filter((t) => t.endsWith('.*') || !wildcards.has(t.split('.')[0])))].sort();
}

function checkUrl(problems: Problems, raw: string | null | undefined): string | undefined {
  const field = 'input.url';
  if (!raw || !raw.trim()) return void problems.add(field, 'is required: the endpoint that receives the requests');
  const value = raw.trim();
  if (value.length > WEBHOOK_LIMITS.url) return void problems.add(field, `must be at most ${WEBHOOK_LIMITS.url} characters`);
  let url: URL;
  try {
    url = new URL(value.replaceAll('{id}', 'id'));
  } catch {
    return void problems.add(field, `"${value}" is not an absolute URL: expected http://… or https://…`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return void problems.add(field, `must use http or https (got ${url.protocol.slice(0, -1)})`);
  if (url.username || url.password) return void problems.add(field, 'must not contain a user name or password; send credentials in a secret header instead');
  if (url.hash) return void problems.add(field, 'must not contain a #fragment');
  return value;
}

function checkHeaders(problems: Problems, headers: HeaderInput[]): StoredHeader[] {
  if (headers.length > WEBHOOK_LIMITS.headers) problems.add('input.headers', `at most ${WEBHOOK_LIMITS.headers} headers`);
  const seen = new Set<string>();
  return headers.map((h, i) => {
    const at = `input.headers[${i}]`;
    const name = h.name.trim();
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) problems.add(`${at}.name`, `"${h.name}" is not a valid header name`);
    else if (lower === '__proto__') problems.add(`${at}.name`, '__proto__ is reserved and cannot be a header name');
    else if (FORBIDDEN_HEADERS.includes(lower) || lower.startsWith('proxy-')) {
      problems.add(`${at}.name`, `${name} is set by Herald or by HTTP itself and cannot be overridden (not allowed: ${FORBIDDEN_HEADERS.join(', ')})`);
    } else if (seen.has(lower)) problems.add(`${at}.name`, `${name} is given twice`);
    seen.add(lower);
    const unsendable = UNSENDABLE_IN_HEADER.exec(h.value);
    if (unsendable) {
      const point = unsendable[0].codePointAt(0)!;
      const code = `U+${point.toString(16).toUpperCase().padStart(4, '0')}`;
      const what = point === 0x0a || point === 0x0d ? 'a line break' : point === 0 ? 'NUL' : point < 0x100 ? 'a control character' : 'a character beyond Latin-1';
      problems.add(`${at}.value`, `contains ${what} (${code}) at position ${unsendable.index}, which HTTP cannot carry in a header: only tabs and printable Latin-1 characters (U+0020–U+007E, U+00A0–U+00FF) are allowed`);
    }
    if (h.value.length > WEBHOOK_LIMITS.headerValue) problems.add(`${at}.value`, `must be at most ${WEBHOOK_LIMITS.headerValue} characters`);
    // Credentials headers are always secret, whatever the input says.
    return { name, value: h.value, secret: Boolean(h.secret) || SECRET_HEADERS.includes(lower) };
  });
}

function checkPayload(
  problems: Problems,
  p: { payloadMode: PayloadMode; selectedFields: string[]; template: string | null; templateFormat: TemplateFormat | null },
  topics: TopicInfo[],
): void {
  if (p.payloadMode === 'SELECTED_FIELDS') {
    const catalog = new Set(topics.flatMap((t) => t.fields.map((f) => f.path)));
    if (p.selectedFields.length === 0) problems.add('input.selectedFields', 'SELECTED_FIELDS needs at least one field from the topic catalog');
    if (catalog.size === 0 && topics.length > 0) {
      problems.add('input.selectedFields', `the topics ${topics.map((t) => t.key).join(', ')} have no field catalog to select from; add fields to the topic first`);
    }
    if (p.selectedFields.length > WEBHOOK_LIMITS.selected) problems.add('input.selectedFields', `at most ${WEBHOOK_LIMITS.selected} fields`);
    p.selectedFields.forEach((f, i) => {
      if (catalog.size > 0 && !catalog.has(f)) {
        problems.add(`input.selectedFields[${i}]`, `"${f}" is not in the field catalog; fields: ${[...catalog].join(', ')}`);
      }
    });
  }
  if (p.payloadMode === 'CUSTOM') {
    if (!p.template?.trim()) return void problems.add('input.template', 'CUSTOM needs a template');
    if (p.template.length > WEBHOOK_LIMITS.template) return void problems.add('input.template', `must be at most ${WEBHOOK_LIMITS.template} characters`);
    const result = compileTemplate(p.template, p.templateFormat ?? 'JSON', topics.flatMap((t) => t.mergeTags));
    if (isTemplateError(result)) problems.add('input.template', `line ${result.line}, column ${result.column}: ${result.message}`);
  }
}
