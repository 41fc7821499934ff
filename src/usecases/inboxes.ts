import { randomBytes } from 'node:crypto';
import { signedContent } from '../destinations/index.ts';
import { verifySignature } from '../rules/signing.ts';
import { conflict, notFound } from '../rules/errors.ts';
import type { Change } from '../pubsub/changes.ts';
import { uuidv7 } from '../db/ids.ts';
import { Problems, text } from '../rules/problems.ts';
import { isUuid } from '../rules/values.ts';
import { changeInbox, inboxByToken, inboxWebhook, insertInbox, keptRequests, liveInboxes, recordSignatures, removeInbox, saveCapture, secretHeaderNames, tenantInbox } from '../store/inboxes.ts';
import { findWebhook, openWebhook } from './webhooks.ts';
import { isCredentialHeader } from '../rules/webhookSettings.ts';

/** Bounds of the request inspector. */
export const INBOX_LIMITS = { perTenant: 20, requestsKept: 100, bodyBytes: 64 * 1024, maxHours: 720, defaultHours: 168 };

export interface InboxInput {
  name: string;
  webhookId?: string | null;
  expiresInHours?: number | null;
  respondWith?: number | null;
}

function checkSettings(input: Partial<InboxInput>, problems: Problems) {
  if (input.expiresInHours !== undefined && input.expiresInHours !== null) {
    const hours = input.expiresInHours;
    problems.check(Number.isInteger(hours) && hours >= 1 && hours <= INBOX_LIMITS.maxHours, 'input.expiresInHours', `must be a whole number of hours from 1 to ${INBOX_LIMITS.maxHours}`);
  }
  if (input.respondWith !== undefined && input.respondWith !== null) {
    const status = input.respondWith;
    problems.check(Number.isInteger(status) && status >= 200 && status <= 599, 'input.respondWith', 'must be an HTTP status from 200 to 599');
  }
}

/** A URL on this server that captures every request sent to it, so nobody needs an outside site to try a webhook. */
export async function createInbox(tenantId: string, input: InboxInput) {
  const problems = new Problems();
  const name = text(problems, 'input.name', input.name, { required: true, max: 200 })!;
  checkSettings(input, problems);
  problems.throwIfAny();
  const hours = input.expiresInHours ?? INBOX_LIMITS.defaultHours;
  const respondWith = input.respondWith ?? 200;
  if (input.webhookId) await findWebhook(tenantId, input.webhookId);
  const live = await liveInboxes(tenantId);
  if (live >= INBOX_LIMITS.perTenant) throw conflict(`a tenant may have at most ${INBOX_LIMITS.perTenant} inboxes; delete one first`);
  return insertInbox({
    tenantId,
    name,
    token: randomBytes(18).toString('base64url'),
    webhookId: input.webhookId ?? null,
    respondWith,
    expiresAt: new Date(Date.now() + hours * 3_600_000),
  });
}

export async function findInbox(tenantId: string, id: string) {
  const inbox = isUuid(id) ? await tenantInbox(tenantId, id) : null;
  if (!inbox) throw notFound('inbox', id);
  return inbox;
}

/** Changes what is given; `webhookId: null` stops signature checks, `expiresInHours` counts from now. */
export async function updateInbox(tenantId: string, id: string, input: Partial<InboxInput>) {
  const inbox = await findInbox(tenantId, id);
  const problems = new Problems();
  const name = input.name === undefined ? undefined : text(problems, 'input.name', input.name, { required: true, max: 200 });
  checkSettings(input, problems);
  problems.throwIfAny();
  if (input.webhookId) await findWebhook(tenantId, input.webhookId);
  const updated = await changeInbox(inbox.id, {
    name,
    webhookId: input.webhookId,
    respondWith: input.respondWith ?? undefined,
    expiresAt: input.expiresInHours ? new Date(Date.now() + input.expiresInHours * 3_600_000) : undefined,
  });
  // Another webhook to check against: the requests already captured are checked again, as they were when they came.
  if (input.webhookId !== undefined && input.webhookId !== inbox.webhookId) await recheckSignatures(updated.id, updated.webhookId);
  return updated;
}

/** The signature of a request, checked against a webhook's secrets when it came (`at`); null with no webhook to check against. */
async function checkSignature(webhookId: string | null, request: CapturedRequest, at: Date): Promise<{ valid: boolean; message: string } | null> {
  if (!webhookId) return null;
  const stored = await inboxWebhook(webhookId);
  const webhook = stored && openWebhook(stored);
  if (!webhook) return null;
  const secrets = [webhook.secret, ...(webhook.previousSecret && webhook.previousSecretUntil && webhook.previousSecretUntil > at ? [webhook.previousSecret] : [])];
  if (request.truncated) return { valid: false, message: `body over ${INBOX_LIMITS.bodyBytes} bytes was cut, so it cannot be verified` };
  return verifySignature(secrets, { id: request.headers['webhook-id'], timestamp: request.headers['webhook-timestamp'], signature: request.headers['webhook-signature'] }, signedContent(request.method, request.path, request.body), at);
}

/** Checks every request an inbox keeps (at most INBOX_LIMITS.requestsKept) against its webhook now. */
async function recheckSignatures(inboxId: string, webhookId: string | null): Promise<void> {
  const requests = await keptRequests(inboxId, INBOX_LIMITS.requestsKept);
  const checked = await Promise.all(
    requests.map(async (r) => ({ id: r.id, signature: await checkSignature(webhookId, { method: r.method, path: r.path, headers: r.headers as Record<string, string>, body: r.body, truncated: r.bodyTruncated }, r.receivedAt) })),
  );
  await recordSignatures(checked);
}

export async function deleteInbox(tenantId: string, id: string) {
  const inbox = await findInbox(tenantId, id);
  await removeInbox(inbox.id);
  return inbox;
}

export interface CapturedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  truncated: boolean;
}

/** Stores a request sent to an inbox (keeping its latest ones) and answers with the inbox's status; null when there is no such live inbox. */
export async function capture(token: string, request: CapturedRequest): Promise<{ status: number } | null> {
  const inbox = await inboxByToken(token);
  if (!inbox || inbox.expiresAt < new Date()) return null;
  const signature = await checkSignature(inbox.webhookId, request, new Date());
  const messageId = request.headers['webhook-id'];
  const secret = await secretHeaderNames(inbox.tenantId, inbox.webhookId, messageId && isUuid(messageId) ? messageId : null);
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, secret.has(name) || isCredentialHeader(name) ? '[secret]' : value]));
  const id = uuidv7();
  const change: Change = { k: 'inbox', t: inbox.tenantId, id, inbox: inbox.id };
  await saveCapture(
    { id, inboxId: inbox.id, method: request.method, path: request.path, headers, body: request.body, truncated: request.truncated, signatureValid: signature?.valid ?? null, signatureMessage: signature?.message ?? null },
    INBOX_LIMITS.requestsKept,
    change,
  );
  return { status: inbox.respondWith };
}
