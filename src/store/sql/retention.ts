import { Prisma } from '../../generated/prisma/client.ts';

/**
 * The purge, a window of primary keys at a time: ids are time-ordered (UUID v7), so the
 * rows older than the cutoff lie below `upTo`, and each window is read once along the
 * primary key, its finished rows deleted in a transaction of their own. Rows kept (still
 * waiting, or newer than they look) are skipped, not read again by the next window.
 */
const window = (table: string, after: string, upTo: string, limit: number) =>
  Prisma.sql`SELECT id FROM ${Prisma.raw(table)} WHERE id > ${after}::uuid AND id < ${upTo}::uuid ORDER BY id LIMIT ${limit}`;

/** Finished deliveries (with their attempts) in the next window; answers how many went and where the window ended. */
export function purgeInstances(after: string, upTo: string, cutoff: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH scanned AS (${window('instance', after, upTo, limit)}),
    gone AS (
      DELETE FROM instance WHERE id IN (SELECT id FROM scanned) AND created_at < ${cutoff} AND status IN ('COMPLETED', 'FAILED', 'CANCELLED')
      RETURNING 1)
    SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM scanned)::int AS scanned, (SELECT id FROM scanned ORDER BY id DESC LIMIT 1)::text AS last`;
}

/** Events in the next window that no delivery refers to any more. */
export function purgeEvents(after: string, upTo: string, cutoff: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH scanned AS (${window('event', after, upTo, limit)}),
    gone AS (
      DELETE FROM event e WHERE e.id IN (SELECT id FROM scanned) AND e.created_at < ${cutoff}
        AND NOT EXISTS (SELECT 1 FROM instance i WHERE i.event_id = e.id)
      RETURNING 1)
    SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM scanned)::int AS scanned, (SELECT id FROM scanned ORDER BY id DESC LIMIT 1)::text AS last`;
}

/** Closed batches in the next window whose delivery is gone (their events go with them). */
export function purgeBatches(after: string, upTo: string, cutoff: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH scanned AS (${window('batch', after, upTo, limit)}),
    gone AS (
      DELETE FROM batch WHERE id IN (SELECT id FROM scanned) AND opened_at < ${cutoff} AND closed_at IS NOT NULL AND instance_id IS NULL
      RETURNING 1)
    SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM scanned)::int AS scanned, (SELECT id FROM scanned ORDER BY id DESC LIMIT 1)::text AS last`;
}

/** Inboxes past their expiry. */
export function purgeInboxes(now: Date): Prisma.Sql {
  return Prisma.sql`WITH gone AS (DELETE FROM inbox WHERE expires_at < ${now} RETURNING 1) SELECT count(*)::int AS deleted FROM gone`;
}
