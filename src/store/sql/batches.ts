import { Prisma } from '../../generated/prisma/client.ts';

/** Statements on batches beyond the ORM's. */

/** A webhook's batches are added to one transaction at a time. */
export function lockBatches(webhookId: string): Prisma.Sql {
  return Prisma.sql`SELECT pg_advisory_xact_lock(hashtextextended(${`batch:${webhookId}`}, 0))`;
}

/** A batch not closed into an instance yet, locked (closing runs once). */
export function lockOpenBatch(batchId: string): Prisma.Sql {
  return Prisma.sql`SELECT id FROM batch WHERE id = ${batchId}::uuid AND instance_id IS NULL FOR UPDATE`;
}
