import { changeState, discardHeld, stateOf, type WebhookState } from '../delivery/webhookState.ts';
import { DEFAULT_RETRY_SCHEDULE_MS, MAX_RETRY_DELAY_MS } from '../delivery/retry.ts';
import { raise } from '../alerts/herald.ts';
import { generateSecret } from '../delivery/signing.ts';
import { notify } from '../pubsub/changes.ts';
import { db, type Tx } from '../db/client.ts';
import { notFound } from '../errors.ts';
import type { Combinator, HttpMethod, PayloadMode, Prisma, TemplateFormat, Webhook } from '../generated/prisma/client.ts';
import { expandEventTypes, loadTopics, type TopicInfo } from './catalog.ts';
import { OPERATORS, type ConditionNode, type Operator } from './conditions.ts';
import { checkRule, type RuleContext } from './conditionRules.ts';
import { isUuid } from './values.ts';
import { open, openHeaders, openOrNull, seal, sealHeaders, sealingKeyId, sealOrNull } from '../crypto/secrets.ts';
import { IDENTIFIER, Problems, text } from './problems.ts';
import { compileTemplate, isTemplateError } from './template.ts';

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

/** Exactly one of `rule` or `group` (checked). */
export interface ConditionInput {
  rule?: { path: string; operator: Operator; values?: unknown[] | null } | null;
  group?: { match: Combinator; conditions: ConditionInput[] } | null;
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
  batchWindowMs?: number | null;
  batchMaxSize?: number | null;
}

export interface WebhookLimits {
  minBackoffMs: number;
}

export const WEBHOOK_LIMITS = { url: 2048, headers: 30, headerValue: 4096, eventTypes: 100, conditions: 100, depth: 5, selected: 200, template: 100_000 };
const FORBIDDEN_HEADERS = [
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'content-type', 'user-agent',
  'webhook-id', 'webhook-timestamp', 'webhook-signature',
];
const SECRET_HEADERS = ['authorization', 'cookie', 'x-api-key', 'api-key', 'x-auth-token'];
/** Headers that carry credentials by their name, wherever they are shown. */
export const isCredentialHeader = (name: string) => SECRET_HEADERS.includes(name.toLowerCase()) || /authorization|cookie|token|secret|api[-_]?key|password/i.test(name);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node refuses to send in a header value (line breaks, NUL, other controls, anything past Latin-1). */
const UNSENDABLE_IN_HEADER = /[^\t\x20-\x7e\xa0-\xff]/u;

/** The settings a webhook ends up with: everything the rules look at, validated together. */
type Resolved = Omit<Prisma.WebhookUncheckedCreateInput, 'tenantId' | 'secret' | 'conditions' | 'headers'> & {
  eventTypes: string[];
  topics: string[];
  headers: StoredHeader[];
};

/** Checks a new webhook's settings and conditions without saving anything. */
export async function checkNewWebhook(tenantId: string, input: WebhookInput, limits: WebhookLimits, at = 'input') {
  const topics = await loadTopics(tenantId);
  const problems = new Problems();
  const resolved = resolve(problems, input, undefined, topics, limits);
  const conditions = input.conditions ?? [];
  checkConditionTree(problems, 'input.conditions', conditions, contextOf(resolved, topics), 1, { count: 0 });
  if (at !== 'input') problems.list.forEach((p) => (p.field = p.field.replace(/^input/, at)));
  problems.throwIfAny();
  return { resolved, conditions, topics };
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
    orderedDelivery: resolved.orderedDelivery ?? false,
    batchWindowMs: resolved.batchWindowMs ?? null,
    secret: generateSecret(),
    previousSecret: null,
    previousSecretUntil: null,
  };
}

export async function createWebhook(tenantId: string, input: WebhookInput, limits: WebhookLimits) {
  const { resolved, conditions } = await checkNewWebhook(tenantId, input, limits);
  const secret = generateSecret();
  const webhook = await db().$transaction(async (tx) => {
    const created = await tx.webhook.create({ data: { ...resolved, tenantId, secret: seal(secret), headers: sealHeaders(resolved.headers) as never } });
    await insertConditions(tx, created.id, null, conditions);
    await notify(tx, [{ k: 'webhook', t: tenantId, id: created.id }]);
    return created;
  });
  return { webhook, secret };
}

/** Changes what is given and checks the result as a whole, conditions included. */
export async function updateWebhook(tenantId: string, id: string, input: WebhookInput, limits: WebhookLimits) {
  const current = await findWebhook(tenantId, id, { includeDeleted: false });
  const topics = await loadTopics(tenantId);
  const problems = new Problems();
  const resolved = resolve(problems, input, current, topics, limits);
  const replacing = input.conditions !== undefined && input.conditions !== null;
  const ctx = contextOf(resolved, topics);
  if (replacing) {
    checkConditionTree(problems, 'input.conditions', input.conditions!, ctx, 1, { count: 0 });
  } else {
    const tree = await conditionTree(id, current.conditionMatch);
    recheckStoredTree(problems, tree, ctx);
  }
  problems.throwIfAny();
  return db().$transaction(async (tx) => {
    if (replacing) {
      await tx.condition.deleteMany({ where: { webhookId: id } });
      await insertConditions(tx, id, null, input.conditions!);
    }
    const { active, ...settings } = resolved;
    const updated = await tx.webhook.update({ where: { id }, data: { ...settings, headers: sealHeaders(resolved.headers) as never } });
    // `active` given: on (sending what a paused webhook held) or off; otherwise the state stays.
    if (input.active != null && input.active !== current.active) await changeState(tx, current, active ? 'ACTIVE' : 'DISABLED');
    else await notify(tx, [{ k: 'webhook', t: tenantId, id }]);
    return input.active != null && input.active !== current.active ? tx.webhook.findUniqueOrThrow({ where: { id } }) : updated;
  });
}

/**
 * Moves a webhook to a state: ACTIVE sends, and first what it held while paused; PAUSED
 * keeps recording its deliveries without sending them; DISABLED takes no events and
 * cancels what waited or was held.
 */
export async function setWebhookState(tenantId: string, id: string, to: WebhookState) {
  const current = await findWebhook(tenantId, id, { includeDeleted: false });
  const from = stateOf(current);
  return db().$transaction(async (tx) => {
    if (from !== to || to === 'ACTIVE') await changeState(tx, current, to);
    // A person pausing and resuming is told through Herald's own topic too (alerts for a team).
    if (from !== 'PAUSED' && to === 'PAUSED') await raise(tx, [{ tenantId, action: 'webhook_paused', webhookId: id, reason: 'paused by a person' }]);
    if (from === 'PAUSED' && to === 'ACTIVE') await raise(tx, [{ tenantId, action: 'webhook_resumed', webhookId: id }]);
    return tx.webhook.findUniqueOrThrow({ where: { id } });
  });
}

/** Cancels every delivery a webhook holds (PAUSED), leaving the webhook as it is. Answers how many. */
export async function discardHeldDeliveries(tenantId: string, id: string): Promise<number> {
  const webhook = await findWebhook(tenantId, id);
  return discardHeld(webhook.id);
}

/** Deletes a webhook: it stops receiving events and what waited or was held is cancelled; its history stays readable. */
export async function deleteWebhook(tenantId: string, id: string) {
  const current = await findWebhook(tenantId, id, { includeDeleted: false });
  return db().$transaction(async (tx) => {
    await tx.webhook.update({ where: { id }, data: { deletedAt: new Date() } });
    await changeState(tx, current, 'DISABLED');
    return tx.webhook.findUniqueOrThrow({ where: { id } });
  });
}

/** A new signing secret; the old one keeps signing alongside it for `keepPreviousSeconds`. */
export async function rotateWebhookSecret(tenantId: string, id: string, keepPreviousSeconds: number) {
  const current = await findWebhook(tenantId, id, { includeDeleted: false });
  const problems = new Problems();
  problems.check(
    Number.isInteger(keepPreviousSeconds) && keepPreviousSeconds >= 0 && keepPreviousSeconds <= 7 * 86_400,
    'keepPreviousSeconds',
    'must be a whole number of seconds from 0 to 604800 (7 days)',
  );
  problems.throwIfAny();
  const secret = generateSecret();
  const webhook = await db().webhook.update({
    where: { id },
    data: {
      secret: seal(secret),
      previousSecret: keepPreviousSeconds > 0 ? seal(current.secret) : null,
      previousSecretUntil: keepPreviousSeconds > 0 ? new Date(Date.now() + keepPreviousSeconds * 1000) : null,
    },
  });
  return { webhook, secret };
}

export async function findWebhook(tenantId: string, id: string, { includeDeleted = true } = {}): Promise<Webhook> {
  const webhook = isUuid(id)
    ? await db().webhook.findFirst({ where: { id, tenantId, ...(includeDeleted ? {} : { deletedAt: null }) } })
    : null;
  if (!webhook) throw notFound('webhook', id);
  return openWebhook(webhook);
}

/** A stored webhook with its secrets opened (signing secrets, secret header values), for signing and editing. */
export function openWebhook<W extends Pick<Webhook, 'secret' | 'previousSecret' | 'headers'>>(webhook: W): W {
  return { ...webhook, secret: open(webhook.secret), previousSecret: openOrNull(webhook.previousSecret), headers: openHeaders(webhook.headers as unknown as StoredHeader[]) as never };
}

const RESEAL_LOCK = 7_314_002;

/**
 * Seals every webhook secret that is not sealed with the current key: ones stored in
 * plain text before sealing existed, and ones under a key being rotated out. Start-up
 * runs it (under a lock, so processes starting together do it once), and so does
 * `npm run secrets:reseal`. Answers how many webhooks changed.
 */
export async function resealSecrets(): Promise<number> {
  const sealedNow = `hsec1:${sealingKeyId()}:%`;
  return db().$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${RESEAL_LOCK})`;
      const rows = await tx.$queryRaw<Array<{ id: string; secret: string; previous_secret: string | null; headers: StoredHeader[] }>>`
        SELECT id::text AS id, secret, previous_secret, headers FROM webhook
        WHERE secret NOT LIKE ${sealedNow} OR previous_secret NOT LIKE ${sealedNow}
          OR EXISTS (SELECT 1 FROM jsonb_array_elements(headers) h WHERE (h->>'secret')::boolean AND h->>'value' NOT LIKE ${sealedNow})`;
      for (const row of rows) {
        await tx.webhook.update({
          where: { id: row.id },
          data: { secret: seal(open(row.secret)), previousSecret: sealOrNull(openOrNull(row.previous_secret)), headers: sealHeaders(openHeaders(row.headers)) as never },
        });
      }
      return rows.length;
    },
    { timeout: 120_000 },
  );
}

// ---- conditions ---------------------------------------------------------------

export async function addCondition(tenantId: string, webhookId: string, parentId: string | null, condition: ConditionInput) {
  const webhook = await findWebhook(tenantId, webhookId, { includeDeleted: false });
  const topics = await loadTopics(tenantId);
  const problems = new Problems();
  const existing = await db().condition.findMany({ where: { webhookId } });
  let depth = 1;
  if (parentId) {
    const parent = existing.find((c) => c.id === parentId);
    if (!parent) throw notFound('condition', parentId);
    if (parent.kind !== 'GROUP') problems.add('parentId', 'conditions can only be added to a group; this condition is a rule');
    depth = depthOf(existing, parentId) + 1;
  }
  checkConditionTree(problems, 'condition', [condition], contextOf(webhook, topics), depth, { count: existing.length });
  problems.throwIfAny();
  return db().$transaction(async (tx) => (await insertConditions(tx, webhookId, parentId, [condition]))[0]!);
}

export async function updateCondition(
  tenantId: string,
  id: string,
  input: { path?: string | null; operator?: Operator | null; values?: unknown[] | null; match?: Combinator | null },
) {
  const condition = await findCondition(tenantId, id);
  const problems = new Problems();
  if (condition.kind === 'GROUP') {
    if (input.path || input.operator || input.values) problems.add('input', 'this condition is a group: only `match` can change');
    problems.throwIfAny();
    return db().condition.update({ where: { id }, data: { combinator: input.match ?? undefined } });
  }
  if (input.match) problems.add('input.match', 'this condition is a rule: `match` applies to groups');
  const rule = {
    path: input.path ?? condition.path!,
    operator: input.operator ?? (condition.operator as Operator),
    values: input.values ?? (input.operator ? [] : (condition.values as unknown[])),
  };
  const topics = await loadTopics(tenantId);
  checkRule(problems, 'input', rule, contextOf(condition.webhook, topics));
  problems.throwIfAny();
  return db().condition.update({
    where: { id },
    data: { path: rule.path, operator: rule.operator, values: rule.values as never },
  });
}

/** Removes a condition, and everything inside it when it is a group. */
export async function removeCondition(tenantId: string, id: string) {
  const condition = await findCondition(tenantId, id);
  await db().condition.delete({ where: { id } });
  return condition;
}

async function findCondition(tenantId: string, id: string) {
  const condition = isUuid(id)
    ? await db().condition.findFirst({ where: { id, webhook: { tenantId, deletedAt: null } }, include: { webhook: true } })
    : null;
  if (!condition) throw notFound('condition', id);
  return condition;
}

/** A webhook's conditions as one tree: its top level combined by `conditionMatch`. */
export async function conditionTree(webhookId: string, match: Combinator): Promise<ConditionNode> {
  const rows = await db().condition.findMany({ where: { webhookId }, orderBy: { position: 'asc' } });
  return treeOf(rows, match);
}

type ConditionRow = { id: string; parentId: string | null; kind: 'GROUP' | 'RULE'; combinator: Combinator | null; path: string | null; operator: string | null; values: unknown; position: number };

export function treeOf(rows: ConditionRow[], match: Combinator): ConditionNode {
  const byParent = new Map<string | null, ConditionRow[]>();
  for (const row of [...rows].sort((a, b) => a.position - b.position)) {
    byParent.set(row.parentId, [...(byParent.get(row.parentId) ?? []), row]);
  }
  const build = (row: ConditionRow): ConditionNode =>
    row.kind === 'GROUP'
      ? { kind: 'GROUP', combinator: row.combinator ?? 'ALL', children: (byParent.get(row.id) ?? []).map(build) }
      : { kind: 'RULE', path: row.path!, operator: row.operator as Operator, values: (row.values as unknown[]) ?? [] };
  return { kind: 'GROUP', combinator: match, children: (byParent.get(null) ?? []).map(build) };
}

function depthOf(rows: Array<{ id: string; parentId: string | null }>, id: string): number {
  let depth = 1;
  let current = rows.find((r) => r.id === id);
  while (current?.parentId) {
    depth += 1;
    current = rows.find((r) => r.id === current!.parentId);
  }
  return depth;
}

async function insertConditions(tx: Tx, webhookId: string, parentId: string | null, conditions: ConditionInput[]) {
  const siblings = await tx.condition.count({ where: { webhookId, parentId } });
  const created = [];
  for (const [i, condition] of conditions.entries()) {
    const position = siblings + i;
    if (condition.group) {
      const group = await tx.condition.create({
        data: { webhookId, parentId, position, kind: 'GROUP', combinator: condition.group.match },
      });
      await insertConditions(tx, webhookId, group.id, condition.group.conditions);
      created.push(group);
    } else {
      const rule = condition.rule!;
      created.push(
        await tx.condition.create({
          data: { webhookId, parentId, position, kind: 'RULE', path: rule.path.trim(), operator: rule.operator, values: (rule.values ?? []) as never },
        }),
      );
    }
  }
  return created;
}

/** The tree of conditions given as input (not yet saved). */
export function inputTree(conditions: ConditionInput[], match: Combinator): ConditionNode {
  const build = (c: ConditionInput): ConditionNode =>
    c.group
      ? { kind: 'GROUP', combinator: c.group.match, children: c.group.conditions.map(build) }
      : { kind: 'RULE', path: c.rule!.path.trim(), operator: c.rule!.operator, values: c.rule!.values ?? [] };
  return { kind: 'GROUP', combinator: match, children: conditions.map(build) };
}

function checkConditionTree(
  problems: Problems,
  at: string,
  conditions: ConditionInput[],
  ctx: RuleContext,
  depth: number,
  counter: { count: number },
): void {
  conditions.forEach((condition, i) => {
    const here = `${at}[${i}]`;
    counter.count += 1;
    if (counter.count === WEBHOOK_LIMITS.conditions + 1) problems.add(here, `a webhook may have at most ${WEBHOOK_LIMITS.conditions} conditions`);
    const given = [condition.rule, condition.group].filter((c) => c !== null && c !== undefined).length;
    if (given !== 1) {
      problems.add(here, 'give exactly one of `rule` or `group`');
      return;
    }
    if (condition.group) {
      if (depth >= WEBHOOK_LIMITS.depth) problems.add(`${here}.group`, `groups nest at most ${WEBHOOK_LIMITS.depth} levels deep`);
      checkConditionTree(problems, `${here}.group.conditions`, condition.group.conditions, ctx, depth + 1, counter);
    } else {
      const rule = condition.rule!;
      if (!OPERATORS.includes(rule.operator)) problems.add(`${here}.rule.operator`, `must be one of ${OPERATORS.join(', ')}`);
      else checkRule(problems, `${here}.rule`, { path: rule.path.trim(), operator: rule.operator, values: rule.values ?? [] }, ctx);
    }
  });
}

/** Stored conditions must still make sense after the events or catalog change. */
function recheckStoredTree(problems: Problems, tree: ConditionNode, ctx: RuleContext, at = 'conditions'): void {
  if (tree.kind === 'RULE') {
    const local = new Problems();
    checkRule(local, at, tree, ctx);
    for (const p of local.list) problems.add('input', `the existing condition "${tree.path} ${tree.operator}" would no longer work: ${p.message}`);
    return;
  }
  tree.children.forEach((child, i) => recheckStoredTree(problems, child, ctx, `${at}[${i}]`));
}

function contextOf(webhook: { eventTypes: string[] }, topics: Map<string, TopicInfo>): RuleContext {
  return { events: expandEventTypes(webhook.eventTypes, topics), topics };
}

// ---- settings -----------------------------------------------------------------

function resolve(problems: Problems, input: WebhookInput, current: Webhook | undefined, topics: Map<string, TopicInfo>, limits: WebhookLimits): Resolved {
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
  return (field: string, value: number, min: number, max: number, unit: string) =>
    problems.check(Number.isInteger(value) && value >= min && value <= max, `input.${field}`, `must be a whole number from ${min} to ${max} ${unit} (got ${value})`);
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
