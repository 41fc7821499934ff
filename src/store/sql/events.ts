import type { Event, Instance } from '../../generated/prisma/client.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { CHANNEL } from '../../pubsub/changes.ts';
import { ANNOUNCE_CHANGED } from './instances.ts';

/** Statements that store and read events (and, when published, their instances). */

const EVENT_COLUMNS = ['id', 'tenant_id', 'topic', 'action', 'entity_id', 'data', 'previous', 'changed_fields', 'actor', 'client_id', 'correlation_id', 'idempotency_key', 'occurred_at', 'created_at', 'shared_body'] as const;
const INSTANCE_COLUMNS = [
  'id', 'tenant_id', 'webhook_id', 'event_id', 'event_type', 'entity_id', 'status', 'held', 'parked', 'attempts', 'next_attempt_at', 'payload', 'request',
  'last_status_code', 'last_message', 'last_duration_ms', 'last_error_kind', 'created_at', 'updated_at',
] as const;

/**
 * Stores events and their instances exactly as given, and announces them (unless the caller does after the commit), in one statement.
 * The rows go as one JSON document each, read back into the listed columns with their types: a column added later takes its default.
 */
export function store(events: Event[], instances: Instance[], { announced = false } = {}): Prisma.Sql {
  const eventRows = events.map((e) => ({
    id: e.id,
    tenant_id: e.tenantId,
    topic: e.topic,
    action: e.action,
    entity_id: e.entityId,
    data: e.data,
    previous: e.previous,
    changed_fields: e.changedFields,
    actor: e.actor,
    client_id: e.clientId,
    correlation_id: e.correlationId,
    idempotency_key: e.idempotencyKey,
    occurred_at: e.occurredAt,
    created_at: e.createdAt,
    shared_body: e.sharedBody,
  }));
  const instanceRows = instances.map((i) => ({
    id: i.id,
    tenant_id: i.tenantId,
    webhook_id: i.webhookId,
    event_id: i.eventId,
    event_type: i.eventType,
    entity_id: i.entityId,
    status: i.status,
    held: i.held,
    parked: i.parked,
    attempts: i.attempts,
    next_attempt_at: i.nextAttemptAt,
    payload: i.payload,
    request: i.request,
    last_status_code: i.lastStatusCode,
    last_message: i.lastMessage,
    last_duration_ms: i.lastDurationMs,
    last_error_kind: i.lastErrorKind,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
  }));
  const eventColumns = Prisma.raw(EVENT_COLUMNS.join(', '));
  const instanceColumns = Prisma.raw(INSTANCE_COLUMNS.join(', '));
  return Prisma.sql`
    WITH stored AS (
      INSERT INTO event (${eventColumns}) SELECT ${eventColumns} FROM jsonb_populate_recordset(NULL::event, ${JSON.stringify(eventRows)}::jsonb)
      RETURNING id, tenant_id, topic),
    changed AS (
      INSERT INTO instance (${instanceColumns}) SELECT ${instanceColumns} FROM jsonb_populate_recordset(NULL::instance, ${JSON.stringify(instanceRows)}::jsonb)
      RETURNING id, tenant_id, webhook_id, status)
    ${
      announced
        ? Prisma.sql`SELECT (SELECT count(*) FROM stored) + (SELECT count(*) FROM changed)`
        : Prisma.sql`SELECT (SELECT count(*) FROM stored, LATERAL (SELECT pg_notify(${CHANNEL}, json_build_object('k', 'event', 't', tenant_id, 'id', id, 'topic', topic)::text)) AS sent)
      + (SELECT count(*) FROM (${ANNOUNCE_CHANGED}) AS notified)`
    }`;
}

/**
 * A page of the tenant's stored events in the range, on the webhook's topics, that it
 * never received, oldest first (read along the tenant's (created_at) index; a batching
 * webhook's batches are looked up by event).
 */
export function notReceived(
  tenantId: string,
  webhook: { id: string; topics: string[]; batching: boolean },
  f: { since: Date; until: Date; entityId: string | null; after: { createdAt: Date; id: string } | null },
  limit: number,
): Prisma.Sql {
  const webhookId = webhook.id;
  return Prisma.sql`
    SELECT e.id::text AS id, e.tenant_id::text AS "tenantId", e.topic, e.action, e.entity_id AS "entityId", e.data, e.previous,
      e.changed_fields AS "changedFields", e.actor, e.client_id AS "clientId", e.correlation_id AS "correlationId",
      e.idempotency_key AS "idempotencyKey", e.occurred_at AS "occurredAt", e.created_at AS "createdAt"
    FROM event e
    WHERE e.tenant_id = ${tenantId}::uuid AND e.created_at >= ${f.since} AND e.created_at < ${f.until} AND e.topic = ANY(${webhook.topics}::text[])
      ${f.entityId !== null ? Prisma.sql`AND e.entity_id = ${f.entityId}` : Prisma.empty}
      ${f.after !== null ? Prisma.sql`AND (e.created_at, e.id) > (${f.after.createdAt}, ${f.after.id}::uuid)` : Prisma.empty}
      AND NOT EXISTS (SELECT 1 FROM instance i WHERE i.event_id = e.id AND i.webhook_id = ${webhookId}::uuid)
      ${
        webhook.batching
          ? Prisma.sql`AND NOT EXISTS (SELECT 1 FROM batch_event be JOIN batch b ON b.id = be.batch_id WHERE be.event_id = e.id AND b.webhook_id = ${webhookId}::uuid)`
          : Prisma.empty
      }
    ORDER BY e.created_at, e.id LIMIT ${limit}`;
}
