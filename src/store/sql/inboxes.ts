import { Prisma } from '../../generated/prisma/client.ts';
import { CHANNEL } from '../../pubsub/changes.ts';

/** Statements on inboxes and the requests they capture. */

export interface Capture {
  id: string;
  inboxId: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  truncated: boolean;
  signatureValid: boolean | null;
  signatureMessage: string | null;
}

/** Saves a captured request, trims the inbox to its latest `kept` (skipping rows another capture is trimming) and announces it. */
export function saveCapture(c: Capture, kept: number, change: string): Prisma.Sql {
  return Prisma.sql`
    WITH saved AS (
      INSERT INTO inbox_request (id, inbox_id, method, path, headers, body, body_truncated, signature_valid, signature_message)
      VALUES (${c.id}::uuid, ${c.inboxId}::uuid, ${c.method}, ${c.path}, ${JSON.stringify(c.headers)}::jsonb, ${c.body}, ${c.truncated},
        ${c.signatureValid}::boolean, ${c.signatureMessage})
      RETURNING id),
    old AS (
      SELECT id FROM inbox_request WHERE inbox_id = ${c.inboxId}::uuid ORDER BY id DESC OFFSET ${kept - 1} FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM inbox_request WHERE id IN (SELECT id FROM old))
    SELECT pg_notify(${CHANNEL}, ${change}) FROM saved`;
}

/**
 * The header names whose values an inbox must not keep: the secret headers of the
 * webhook that sent the request (by its message id, an instance id) and of the inbox's
 * own webhook; when the sender is not known, those of every webhook of the tenant.
 */
export function secretHeaderNames(tenantId: string, inboxWebhookId: string | null, senderInstanceId: string | null): Prisma.Sql {
  const sender = senderInstanceId
    ? Prisma.sql`SELECT webhook_id FROM instance WHERE id = ${senderInstanceId}::uuid AND tenant_id = ${tenantId}::uuid`
    : Prisma.sql`SELECT NULL::uuid AS webhook_id`;
  return Prisma.sql`
    WITH sender AS (${sender}),
    sources AS (
      SELECT id FROM webhook WHERE tenant_id = ${tenantId}::uuid AND (id IN (SELECT webhook_id FROM sender) OR id = ${inboxWebhookId}::uuid
        OR NOT EXISTS (SELECT 1 FROM sender WHERE webhook_id IS NOT NULL)))
    SELECT DISTINCT lower(h->>'name') AS name FROM webhook w JOIN sources ON sources.id = w.id, jsonb_array_elements(w.headers) h
    WHERE (h->>'secret')::boolean`;
}
