import { Prisma } from '../../generated/prisma/client.ts';

/**
 * The purge's statements: a tenant at a time, a window of its events at a time, each deleting by ids found through its indexes so no
 * plan reads the whole table (docs/architecture.md, "Retention").
 */
/** Deliveries that age out: finished ones, and those held for a paused webhook (PAUSED); one still on its way (PENDING, RETRYING, SENDING) is kept. */
const AGED_OUT = Prisma.sql`('COMPLETED', 'FAILED', 'CANCELLED', 'PAUSED')`;

/** Finished and held deliveries, with their attempts, of the tenant's next window of events; answers how many went, how many events the window read, and its last id. */
export function purgeInstances(tenantId: string, after: string, upTo: string, cutoff: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH scanned AS (SELECT id FROM event WHERE tenant_id = ${tenantId}::uuid AND id > ${after}::uuid AND id < ${upTo}::uuid ORDER BY id LIMIT ${limit}),
    gone AS (
      DELETE FROM instance i WHERE i.event_id = ANY (ARRAY(SELECT id FROM scanned)) AND i.created_at < ${cutoff} AND i.status IN ${AGED_OUT} RETURNING 1)
    SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM scanned)::int AS scanned, (SELECT id FROM scanned ORDER BY id DESC LIMIT 1)::text AS last`;
}

/** The tenant's events in the window (`after`, `last`] that no delivery refers to any more. */
export function purgeEvents(tenantId: string, after: string, last: string, cutoff: Date): Prisma.Sql {
  return Prisma.sql`
    WITH gone AS (
      DELETE FROM event e
      WHERE e.id = ANY (ARRAY(SELECT id FROM event WHERE tenant_id = ${tenantId}::uuid AND id > ${after}::uuid AND id <= ${last}::uuid))
        AND e.created_at < ${cutoff} AND NOT EXISTS (SELECT 1 FROM instance i WHERE i.event_id = e.id) RETURNING 1)
    SELECT count(*)::int AS deleted FROM gone`;
}

/** Up to `limit` of the tenant's batches closed before the cutoff whose delivery is gone (their events' links go with them). */
export function purgeBatches(tenantId: string, cutoff: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH gone AS (
      DELETE FROM batch WHERE id = ANY (ARRAY(
        SELECT b.id FROM webhook w
        CROSS JOIN LATERAL (SELECT id FROM batch WHERE webhook_id = w.id AND closed_at < ${cutoff} AND instance_id IS NULL LIMIT ${limit}) b
        WHERE w.tenant_id = ${tenantId}::uuid LIMIT ${limit})) RETURNING 1)
    SELECT count(*)::int AS deleted FROM gone`;
}

/** Every tenant with its own retention, if it has one. */
export function retentionPeriods(): Prisma.Sql {
  return Prisma.sql`SELECT id::text, retention_days AS days FROM tenant ORDER BY id`;
}

/** Inboxes past their expiry. */
export function purgeInboxes(now: Date): Prisma.Sql {
  return Prisma.sql`WITH gone AS (DELETE FROM inbox WHERE expires_at < ${now} RETURNING 1) SELECT count(*)::int AS deleted FROM gone`;
}

/** Portal sessions that have ended (through portal_session_expires_at_idx). */
export function purgePortalSessions(now: Date): Prisma.Sql {
  return Prisma.sql`WITH gone AS (DELETE FROM portal_session WHERE expires_at < ${now} RETURNING 1) SELECT count(*)::int AS deleted FROM gone`;
}
