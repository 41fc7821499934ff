import { Prisma } from '../../generated/prisma/client.ts';

/** Statements on webhooks beyond the ORM's reads and writes. */

/** Adds (or, after a success, restarts at) `failed` to a webhook's failures in a row; answers the count before and after. */
export function countFailures(webhookId: string, failed: number, reset: boolean): Prisma.Sql {
  return Prisma.sql`
    UPDATE webhook w SET
      consecutive_failures = CASE WHEN ${reset} THEN ${failed}::int ELSE w.consecutive_failures + ${failed}::int END,
      failing_since = CASE WHEN ${failed}::int = 0 THEN NULL WHEN ${reset} THEN now() ELSE COALESCE(w.failing_since, now()) END
    FROM (SELECT id, consecutive_failures AS before FROM webhook WHERE id = ${webhookId}::uuid FOR UPDATE) b
    WHERE w.id = b.id RETURNING w.consecutive_failures AS count, b.before, w.active`;
}

/** What a webhook's state says about its deliveries. */
export function stateOf(webhookId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT tenant_id::text, active, paused_at IS NOT NULL AS paused, deleted_at IS NOT NULL AS deleted, ordered_delivery AS ordered
    FROM webhook WHERE id = ${webhookId}::uuid`;
}

/** A lock held while secrets are re-sealed, so that processes starting together do it once. */
export function resealLock(lock: number): Prisma.Sql {
  return Prisma.sql`SELECT pg_advisory_xact_lock(${lock})`;
}

/** Webhooks with a secret (signing, previous, or a secret header's) not sealed with the current key. */
export function notSealedWith(sealedNow: string): Prisma.Sql {
  return Prisma.sql`
    SELECT id::text AS id, secret, previous_secret, headers FROM webhook
    WHERE secret NOT LIKE ${sealedNow} OR previous_secret NOT LIKE ${sealedNow}
      OR EXISTS (SELECT 1 FROM jsonb_array_elements(headers) h WHERE (h->>'secret')::boolean AND h->>'value' NOT LIKE ${sealedNow})`;
}

/** What an alert about a webhook tells of it when it is published. */
export function alertFacts(tenantId: string, webhookId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT w.label, w.url, w.active, w.paused_at IS NOT NULL AS paused, w.deactivated_reason AS reason, w.consecutive_failures AS failures, w.failing_since,
      (SELECT count(*)::int FROM instance i WHERE i.webhook_id = w.id AND i.status = 'PAUSED') AS held
    FROM webhook w WHERE w.id = ${webhookId}::uuid AND w.tenant_id = ${tenantId}::uuid`;
}

/**
 * What a publish reads of the tenant's active and paused webhooks on `topics`: what
 * matching (conditions as rows) and rendering need, and whether the circuit is open.
 */
export function matching(tenantId: string, topics: string[]): Prisma.Sql {
  return Prisma.sql`
    SELECT COALESCE(json_agg(json_build_object('id', w.id, 'eventTypes', w.event_types, 'conditionMatch', w.condition_match,
      'conditions', COALESCE((SELECT json_agg(json_build_object('id', c.id, 'parentId', c.parent_id, 'kind', c.kind, 'combinator', c.combinator,
        'path', c.path, 'operator', c.operator, 'values', c.values, 'position', c.position)) FROM condition c WHERE c.webhook_id = w.id), '[]'),
      'batchWindowMs', w.batch_window_ms, 'batchMaxSize', w.batch_max_size, 'orderedDelivery', w.ordered_delivery, 'url', w.url, 'method', w.method,
      'payloadMode', w.payload_mode, 'selectedFields', w.selected_fields, 'template', w.template, 'templateFormat', w.template_format,
      'paused', NOT w.active, 'circuitOpen', g.open_until IS NOT NULL) ORDER BY w.id), '[]')
    FROM webhook w LEFT JOIN webhook_gate g ON g.webhook_id = w.id
    WHERE w.tenant_id = ${tenantId}::uuid AND (w.active OR w.paused_at IS NOT NULL) AND w.deleted_at IS NULL AND w.topics && ${topics}::text[]`;
}
