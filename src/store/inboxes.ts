import { query } from '../db/client.ts';
import type { Change } from '../pubsub/changes.ts';
import * as sql from './sql/inboxes.ts';

/**
 * Saves a captured request in one statement, no transaction to wait for, so that a burst
 * of captures cannot time out or deadlock; older requests past `kept` are trimmed.
 */
export async function saveCapture(capture: sql.Capture, kept: number, change: Change): Promise<void> {
  await query(sql.saveCapture(capture, kept, JSON.stringify(change)));
}

/** Header names whose values an inbox must not keep (see sql/inboxes.ts). */
export async function secretHeaderNames(tenantId: string, inboxWebhookId: string | null, senderInstanceId: string | null): Promise<Set<string>> {
  const rows = await query<{ name: string }>(sql.secretHeaderNames(tenantId, inboxWebhookId, senderInstanceId));
  return new Set(rows.map((r) => r.name));
}
