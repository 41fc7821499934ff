import { query } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { StatusGroup } from '../rules/stats.ts';

/** Instances of each of `webhookIds` counted by status, in one statement (answers in the order asked). */
export async function statusGroups(webhookIds: readonly string[]): Promise<StatusGroup[][]> {
  const rows = await query<{ webhook_id: string } & StatusGroup>(statusGroupsSql(webhookIds));
  return webhookIds.map((id) => rows.filter((r) => r.webhook_id === id).map(({ status, count, lastAt }) => ({ status, count, lastAt })));
}

export function statusGroupsSql(webhookIds: readonly string[]): Prisma.Sql {
  return Prisma.sql`
    SELECT webhook_id::text AS webhook_id, status::text AS status, count(*)::int AS count, max(updated_at) AS "lastAt"
    FROM instance WHERE webhook_id = ANY(${[...webhookIds]}::uuid[]) GROUP BY webhook_id, status`;
}
