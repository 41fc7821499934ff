import { query } from '../db/client.ts';
import type { StatusGroup } from '../rules/stats.ts';
import * as sql from './sql/instances.ts';

/** Instances of each of `webhookIds` counted by status, in one statement (answers in the order asked). */
export async function statusGroups(webhookIds: readonly string[]): Promise<StatusGroup[][]> {
  const rows = await query<{ webhook_id: string } & StatusGroup>(sql.statusGroups(webhookIds));
  return webhookIds.map((id) => rows.filter((r) => r.webhook_id === id).map(({ status, count, lastAt }) => ({ status, count, lastAt })));
}
