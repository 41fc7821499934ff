import type { Combinator, Webhook } from '../generated/prisma/client.ts';
import { open, openHeaders, openOrNull, seal, sealHeaders, sealingKeyId, sealOrNull } from '../crypto/secrets.ts';
import { notify } from '../pubsub/changes.ts';
import type { ConditionNode, Operator } from '../rules/conditions.ts';
import { checkRule } from '../rules/conditionRules.ts';
import { notFound } from '../rules/errors.ts';
import { Problems } from '../rules/problems.ts';
import { generateSecret } from '../rules/signing.ts';
import { isUuid } from '../rules/values.ts';
import { checkNewSettings, resolve, stateOf, type ConditionInput, type StoredHeader, type WebhookInput, type WebhookLimits, type WebhookState } from '../rules/webhookSettings.ts';
import { checkConditionTree, contextOf, depthOf, recheckStoredTree, treeOf } from '../rules/conditionTree.ts';
import { raise } from '../store/alerts.ts';
import { loadTopics } from '../store/catalog.ts';
import { changeState, discardHeld } from '../store/webhookState.ts';
import { inTransaction } from '../store/transaction.ts';
import {
  changeCondition,
  changeWebhook,
  conditionsOf,
  insertConditions,
  insertWebhook,
  lockNotSealed,
  removeCondition as removeConditionRow,
  replaceConditions,
  tenantCondition,
  tenantWebhook,
  webhookNow,
} from '../store/webhooks.ts';


/** Checks a new webhook's settings and conditions without saving anything. */
export async function checkNewWebhook(tenantId: string, input: WebhookInput, limits: WebhookLimits, at = 'input') {
  const topics = await loadTopics(tenantId);
  return { ...checkNewSettings(input, topics, limits, at), topics };
}

export async function createWebhook(tenantId: string, input: WebhookInput, limits: WebhookLimits) {
  const { resolved, conditions } = await checkNewWebhook(tenantId, input, limits);
  const secret = generateSecret();
  const webhook = await inTransaction(async (tx) => {
    const created = await insertWebhook(tx, { ...resolved, tenantId, secret: seal(secret), headers: sealHeaders(resolved.headers) as never });
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
  return inTransaction(async (tx) => {
    if (replacing) await replaceConditions(tx, id, input.conditions!);
    const { active, ...settings } = resolved;
    const updated = await changeWebhook(id, { ...settings, headers: sealHeaders(resolved.headers) as never }, tx);
    // `active` given: on (sending what a paused webhook held) or off; otherwise the state stays.
    if (input.active != null && input.active !== current.active) await changeState(tx, current, active ? 'ACTIVE' : 'DISABLED');
    else await notify(tx, [{ k: 'webhook', t: tenantId, id }]);
    return input.active != null && input.active !== current.active ? webhookNow(id, tx) : updated;
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
  return inTransaction(async (tx) => {
    if (from !== to || to === 'ACTIVE') await changeState(tx, current, to);
    // A person pausing and resuming is told through Herald's own topic too (alerts for a team).
    if (from !== 'PAUSED' && to === 'PAUSED') await raise(tx, [{ tenantId, action: 'webhook_paused', webhookId: id, reason: 'paused by a person' }]);
    if (from === 'PAUSED' && to === 'ACTIVE') await raise(tx, [{ tenantId, action: 'webhook_resumed', webhookId: id }]);
    return webhookNow(id, tx);
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
  return inTransaction(async (tx) => {
    await changeWebhook(id, { deletedAt: new Date() }, tx);
    await changeState(tx, current, 'DISABLED');
    return webhookNow(id, tx);
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
  const webhook = await changeWebhook(id, {
    secret: seal(secret),
    previousSecret: keepPreviousSeconds > 0 ? seal(current.secret) : null,
    previousSecretUntil: keepPreviousSeconds > 0 ? new Date(Date.now() + keepPreviousSeconds * 1000) : null,
  });
  return { webhook, secret };
}

export async function findWebhook(tenantId: string, id: string, { includeDeleted = true } = {}): Promise<Webhook> {
  const webhook = isUuid(id) ? await tenantWebhook(tenantId, id, includeDeleted) : null;
  if (!webhook) throw notFound('webhook', id);
  return openWebhook(webhook);
}

/** A stored webhook with its secrets opened (signing secrets, secret header values), for signing and editing. */
export function openWebhook<W extends Pick<Webhook, 'secret' | 'previousSecret' | 'headers'>>(webhook: W): W {
  return { ...webhook, secret: open(webhook.secret), previousSecret: openOrNull(webhook.previousSecret), headers: openHeaders(webhook.headers as unknown as StoredHeader[]) as never };
}

/**
 * Seals every webhook secret not sealed with the current key (plain ones from before sealing, ones under a key rotated out); start-up
 * does it under a lock, as does `npm run secrets:reseal`. Answers how many changed.
 */
export async function resealSecrets(): Promise<number> {
  const sealedNow = `hsec1:${sealingKeyId()}:%`;
  return inTransaction(
    async (tx) => {
      const rows = await lockNotSealed(tx, sealedNow);
      for (const row of rows) {
        await changeWebhook(row.id, { secret: seal(open(row.secret)), previousSecret: sealOrNull(openOrNull(row.previous_secret)), headers: sealHeaders(openHeaders(row.headers)) as never }, tx);
      }
      return rows.length;
    },
    { timeoutMs: 120_000 },
  );
}

// ---- conditions ---------------------------------------------------------------

export async function addCondition(tenantId: string, webhookId: string, parentId: string | null, condition: ConditionInput) {
  const webhook = await findWebhook(tenantId, webhookId, { includeDeleted: false });
  const topics = await loadTopics(tenantId);
  const problems = new Problems();
  const existing = await conditionsOf([webhookId]);
  let depth = 1;
  if (parentId) {
    const parent = existing.find((c) => c.id === parentId);
    if (!parent) throw notFound('condition', parentId);
    if (parent.kind !== 'GROUP') problems.add('parentId', 'conditions can only be added to a group; this condition is a rule');
    depth = depthOf(existing, parentId) + 1;
  }
  checkConditionTree(problems, 'condition', [condition], contextOf(webhook, topics), depth, { count: existing.length });
  problems.throwIfAny();
  return inTransaction(async (tx) => (await insertConditions(tx, webhookId, parentId, [condition]))[0]!);
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
    return changeCondition(id, { combinator: input.match ?? undefined });
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
  return changeCondition(id, { path: rule.path, operator: rule.operator, values: rule.values as never });
}

/** Removes a condition, and everything inside it when it is a group. */
export async function removeCondition(tenantId: string, id: string) {
  const condition = await findCondition(tenantId, id);
  await removeConditionRow(id);
  return condition;
}

async function findCondition(tenantId: string, id: string) {
  const condition = isUuid(id) ? await tenantCondition(tenantId, id) : null;
  if (!condition) throw notFound('condition', id);
  return condition;
}

/** A webhook's conditions as one tree: its top level combined by `conditionMatch`. */
export async function conditionTree(webhookId: string, match: Combinator): Promise<ConditionNode> {
  const rows = await conditionsOf([webhookId]);
  return treeOf(rows, match);
}
