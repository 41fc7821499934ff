// A tenant's configuration as a document: its topics and webhooks, secrets left out, to
// move a sandbox's set-up into production instead of recreating it by hand. An import
// compares the document with the tenant (topics by key, webhooks by label), says what it
// would create and change, checks everything before it changes anything, and applies
// it unless it is a dry run.
import { tenantById } from '../store/tenants.ts';
import { conditionsOf, ownTopics, tenantWebhooks } from '../store/webhooks.ts';
import { InputError, type FieldProblem } from '../rules/errors.ts';
import { Problems } from '../rules/problems.ts';
import { topicMap, validateTopic, type TopicInput, type TopicRow } from '../rules/topics.ts';
import { checkNewSettings, type ConditionInput, type WebhookInput, type WebhookLimits } from '../rules/webhookSettings.ts';
import { treeOf } from '../rules/conditionTree.ts';
import type { ConditionNode } from '../rules/conditions.ts';
import { loadTopics } from '../store/catalog.ts';
import { createTopic, updateTopic } from './topics.ts';
import { createWebhook, openWebhook, updateWebhook } from './webhooks.ts';

export const CONFIGURATION_FORMAT = 'herald.configuration/1';

type TopicDoc = Pick<TopicInput, 'name' | 'description' | 'resourceUrlTemplate' | 'customActions' | 'entityIdType' | 'fields'> & { key: string };
type HeaderDoc = { name: string; value: string | null; secret: boolean };
type WebhookDoc = Omit<WebhookInput, 'headers' | 'active' | 'triggers'> & { label: string; headers: HeaderDoc[] };

export interface ConfigurationDocument {
  format: typeof CONFIGURATION_FORMAT;
  exportedAt: string;
  tenant: { name: string; environment: string };
  topics: TopicDoc[];
  webhooks: WebhookDoc[];
}

export interface PlannedChange {
  kind: 'TOPIC' | 'WEBHOOK';
  name: string;
  action: 'CREATE' | 'UPDATE' | 'UNCHANGED';
  /** The settings that differ (UPDATE). */
  fields: string[];
  notes: string[];
}

export interface ImportPlan {
  dryRun: boolean;
  changes: PlannedChange[];
  /** The signing secrets of the webhooks created (shown this once). */
  secrets: Array<{ label: string; secret: string }>;
}

/** The tenant's topics (not Herald's own) and webhooks (not deleted), without secrets. */
export async function exportConfiguration(tenantId: string): Promise<ConfigurationDocument> {
  const tenant = await tenantById(tenantId);
  const topics = await ownTopics(tenantId);
  const webhooks = await tenantWebhooks(tenantId);
  const conditions = await conditionsOf(webhooks.map((w) => w.id));
  return {
    format: CONFIGURATION_FORMAT,
    exportedAt: new Date().toISOString(),
    tenant: { name: tenant.name, environment: tenant.environment },
    topics: topics.map((t) => ({
      key: t.key,
      name: t.name,
      description: t.description,
      resourceUrlTemplate: t.resourceUrlTemplate,
      customActions: t.customActions,
      entityIdType: t.entityIdType,
      fields: t.fields.map((f) => ({ path: f.path, label: f.label, type: f.type, values: f.values, mergeTag: f.mergeTag })),
    })),
    webhooks: webhooks.map((stored) => {
      const w = openWebhook(stored);
      const tree = treeOf(conditions.filter((c) => c.webhookId === w.id) as never, w.conditionMatch);
      return {
        label: w.label,
        description: w.description,
        events: w.eventTypes,
        url: w.url,
        method: w.method,
        headers: (w.headers as unknown as Array<{ name: string; value: string; secret: boolean }>).map((h) => ({ name: h.name, value: h.secret ? null : h.value, secret: h.secret })),
        payloadMode: w.payloadMode,
        selectedFields: w.selectedFields,
        template: w.template,
        templateFormat: w.templateFormat,
        conditionMatch: w.conditionMatch,
        conditions: tree.kind === 'GROUP' ? tree.children.map(conditionInputOf) : [],
        timeoutMs: w.timeoutMs,
        maxAttempts: w.maxAttempts,
        // A retry schedule, or exponential backoff: one of the two, as the API takes them.
        ...(w.retryScheduleMs.length ? { retryScheduleMs: w.retryScheduleMs } : { retryScheduleMs: null, backoffBaseMs: w.backoffBaseMs, backoffCapMs: w.backoffCapMs }),
        finalStatusCodes: w.finalStatusCodes,
        rateLimit: w.rateLimitPerSecond !== null || w.rateLimitInFlight !== null ? { perSecond: w.rateLimitPerSecond, maxInFlight: w.rateLimitInFlight } : null,
        orderedDelivery: w.orderedDelivery,
        traceContext: w.traceContext,
        batchWindowMs: w.batchWindowMs,
        batchMaxSize: w.batchMaxSize,
      };
    }),
  };
}

function conditionInputOf(node: ConditionNode): ConditionInput {
  return node.kind === 'GROUP' ? { group: { match: node.combinator, conditions: node.children.map(conditionInputOf) } } : { rule: { path: node.path, operator: node.operator, values: node.values } };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Settings compared as the export writes them (key order and absent-vs-null do not count). */
const same = (a: unknown, b: unknown) => JSON.stringify(normal(a)) === JSON.stringify(normal(b));
function normal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normal);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().filter((k) => v[k] !== null && v[k] !== undefined).map((k) => [k, normal(v[k])]));
  return v;
}
const differing = (wanted: Record<string, unknown>, current: Record<string, unknown>, skip: string[] = []) =>
  Object.keys(wanted).filter((k) => !skip.includes(k) && !same(wanted[k], current[k])).sort();

/**
 * Compares a configuration document with the tenant and, unless `dryRun`, applies it (topics, then webhooks, created off; updated
 * ones keep their state), after checking every topic and webhook of it.
 */
export async function importConfiguration(tenantId: string, document: unknown, dryRun: boolean, limits: WebhookLimits): Promise<ImportPlan> {
  const doc = checkDocument(document);
  const current = await exportConfiguration(tenantId);
  const problems = new Problems();
  const changes: PlannedChange[] = [];

  doc.topics.forEach((topic, i) => {
    const at = `document.topics[${i}]`;
    const existing = current.topics.find((t) => t.key === topic.key);
    const check = new Problems();
    validateTopic(check, topic, !existing);
    check.list.forEach((p) => problems.add(p.field.replace(/^input/, at), p.message));
    if (!existing) changes.push({ kind: 'TOPIC', name: topic.key, action: 'CREATE', fields: [], notes: [] });
    else {
      const fields = differing(topic as never, existing as never, ['key']);
      changes.push({ kind: 'TOPIC', name: topic.key, action: fields.length ? 'UPDATE' : 'UNCHANGED', fields, notes: [] });
    }
  });

  // Webhooks are checked against the topics as they will be: the tenant's, with the document's over them.
  const topics = await loadTopics(tenantId);
  const merged = new Map([...topics, ...topicMap(doc.topics.map((t) => ({ key: t.key, resourceUrlTemplate: t.resourceUrlTemplate ?? null, customActions: t.customActions ?? [], builtIn: false, entityIdType: t.entityIdType ?? 'STRING', fields: (t.fields ?? []).map((f) => ({ path: f.path, type: f.type, values: f.values ?? [], mergeTag: f.mergeTag ?? null })) }) as TopicRow))]);
  const labels = new Map<string, number>();
  for (const w of current.webhooks) labels.set(w.label, (labels.get(w.label) ?? 0) + 1);
  const inputs = doc.webhooks.map((webhook, i) => {
    const at = `document.webhooks[${i}]`;
    const existing = current.webhooks.find((w) => w.label === webhook.label);
    const notes: string[] = [];
    if ((labels.get(webhook.label) ?? 0) > 1) problems.add(`${at}.label`, `${labels.get(webhook.label)} webhooks of this tenant are labelled "${webhook.label}": give them distinct labels first, so the import knows which to change`);
    const secretHeaders = webhook.headers.filter((h) => h.secret && h.value === null);
    const given = webhook.headers.filter((h) => !(h.secret && h.value === null)).map((h) => ({ name: h.name, value: h.value ?? '', secret: h.secret }));
    // Secret header values are not exported: a new webhook goes without them; a changed one keeps its headers.
    const keepHeaders = !!existing && secretHeaders.length > 0;
    if (secretHeaders.length) notes.push(existing ? `headers kept as they are (${secretHeaders.map((h) => h.name).join(', ')} secret, not in the document)` : `secret header ${secretHeaders.map((h) => h.name).join(', ')} left out: set its value on the new webhook`);
    const { label, headers: _headers, ...settings } = webhook;
    const input: WebhookInput = { label, ...settings, ...(keepHeaders ? {} : { headers: given }) };
    try {
      checkNewSettings({ ...input, active: false }, merged, limits, at);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      error.problems.forEach((p: FieldProblem) => problems.add(p.field, p.message));
    }
    if (!existing) {
      notes.push('created off: switch it on when it should send');
      changes.push({ kind: 'WEBHOOK', name: label, action: 'CREATE', fields: [], notes });
    } else {
      const fields = differing({ ...webhook, ...(keepHeaders ? { headers: existing.headers } : {}) } as never, existing as never, ['label']);
      changes.push({ kind: 'WEBHOOK', name: label, action: fields.length ? 'UPDATE' : 'UNCHANGED', fields, notes });
    }
    return { input, existing: !!existing };
  });
  problems.throwIfAny();
  if (dryRun) return { dryRun, changes, secrets: [] };

  for (const [i, topic] of doc.topics.entries()) {
    const change = changes[i]!;
    if (change.action === 'CREATE') await createTopic(tenantId, topic);
    else if (change.action === 'UPDATE') await updateTopic(tenantId, { key: topic.key }, { ...topic, key: undefined });
  }
  const ids = new Map((await tenantWebhooks(tenantId)).map((w) => [w.label, w.id]));
  const secrets: ImportPlan['secrets'] = [];
  for (const [i, { input }] of inputs.entries()) {
    const change = changes[doc.topics.length + i]!;
    if (change.action === 'CREATE') {
      const { secret } = await createWebhook(tenantId, { ...input, active: false }, limits);
      secrets.push({ label: input.label!, secret });
    } else if (change.action === 'UPDATE') await updateWebhook(tenantId, ids.get(input.label!)!, input, limits);
  }
  return { dryRun, changes, secrets };
}

/** The document's shape (what each part must be), or BAD_USER_INPUT naming the part. */
function checkDocument(document: unknown): ConfigurationDocument {
  const problems = new Problems();
  if (!isObject(document)) problems.add('document', 'must be a configuration document (a JSON object, as exportConfiguration answers it)');
  else {
    problems.check(document.format === CONFIGURATION_FORMAT, 'document.format', `must be "${CONFIGURATION_FORMAT}" (got ${JSON.stringify(document.format ?? null)})`);
    for (const part of ['topics', 'webhooks'] as const) {
      if (!Array.isArray(document[part])) problems.add(`document.${part}`, 'must be a list');
      else if (document[part].length > 1000) problems.add(`document.${part}`, `has ${document[part].length} entries; at most 1000`);
      else (document[part] as unknown[]).forEach((x, i) => problems.check(isObject(x), `document.${part}[${i}]`, 'must be an object'));
    }
    if (Array.isArray(document.topics)) (document.topics as Array<Record<string, unknown>>).forEach((t, i) => isObject(t) && problems.check(typeof t.key === 'string', `document.topics[${i}].key`, 'must be the topic key (text)'));
    if (Array.isArray(document.webhooks)) {
      (document.webhooks as Array<Record<string, unknown>>).forEach((w, i) => {
        if (!isObject(w)) return;
        problems.check(typeof w.label === 'string' && w.label.trim() !== '', `document.webhooks[${i}].label`, 'must be the webhook label (text): webhooks are matched by label');
        problems.check(w.headers === undefined || Array.isArray(w.headers), `document.webhooks[${i}].headers`, 'must be a list of { name, value, secret }');
      });
      const seen = new Set<string>();
      (document.webhooks as Array<Record<string, unknown>>).forEach((w, i) => {
        if (!isObject(w) || typeof w.label !== 'string') return;
        problems.check(!seen.has(w.label), `document.webhooks[${i}].label`, `"${w.label}" is in the document twice`);
        seen.add(w.label);
      });
    }
  }
  problems.throwIfAny();
  const doc = document as unknown as ConfigurationDocument;
  return { ...doc, webhooks: doc.webhooks.map((w) => ({ ...w, headers: w.headers ?? [] })) };
}
