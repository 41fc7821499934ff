import { Prisma } from '../../generated/prisma/client.ts';

/**
 * The purge, a window of primary keys at a time: ids are time-ordered (UUID v7), so the
 * rows older than the cutoff lie below `upTo`, and each window is read once along the
 * primary key, its finished rows deleted in a transaction of their own. Rows kept (still
 * waiting, or newer than they look) are skipped, not read again by the next window.
 */
/** Deletes the rows of the window after `after` that `doomed` (a condition on the table) holds; answers how many, how many were read, and the window's last id. */
const inWindow = (table: string, after: string, upTo: string, limit: number, doomed: Prisma.Sql) => {
  const name = Prisma.raw(table);
  return Prisma.sql`
    WITH scanned AS (SELECT id FROM ${name} WHERE id > ${after}::uuid AND id < ${upTo}::uuid ORDER BY id LIMIT ${limit}),
    gone AS (DELETE FROM ${name} t WHERE t.id IN (SELECT id FROM scanned) AND ${doomed} RETURNING 1)
    SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM scanned)::int AS scanned, (SELECT id FROM scanned ORDER BY id DESC LIMIT 1)::text AS last`;
};

/** Finished deliveries (with their attempts) in the next window. */
export function purgeInstances(after: string, upTo: string, cutoff: Date, limit: number): Prisma.Sql {
  return inWindow('instance', after, upTo, limit, Prisma.sql`t.created_at < ${cutoff} AND t.status IN ('COMPLETED', 'FAILED', 'CANCELLED')`);
}

/** Events in the next window that no delivery refers to any more. */
export function purgeEvents(after: string, upTo: string, cutoff: Date, limit: number): Prisma.Sql {
  return inWindow('event', after, upTo, limit, Prisma.sql`t.created_at < ${cutoff} AND NOT EXISTS (SELECT 1 FROM instance i WHERE i.event_id = t.id)`);
}

/** Closed batches in the next window whose delivery is gone (their events' links go with them). */
export function purgeBatches(after: string, upTo: string, cutoff: Date, limit: number): Prisma.Sql {
  return inWindow('batch', after, upTo, limit, Prisma.sql`t.opened_at < ${cutoff} AND t.closed_at IS NOT NULL AND t.instance_id IS NULL`);
}

/** Inboxes past their expiry. */
export function purgeInboxes(now: Date): Prisma.Sql {
  return Prisma.sql`WITH gone AS (DELETE FROM inbox WHERE expires_at < ${now} RETURNING 1) SELECT count(*)::int AS deleted FROM gone`;
}
