import { query } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { ensureQueue, queue } from '../queue/boss.ts';
import * as sql from './sql/retention.ts';

export const PURGE_QUEUE = 'purge';

/** Rows read per purge window: each window is one short transaction, so delivery goes on between them. */
const WINDOW = 2000;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** The smallest UUID v7 of a moment: every id made before it sorts below it. */
export function firstIdAt(at: Date): string {
  const hex = Math.max(0, at.getTime()).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** Walks a table's ids below `upTo` a window at a time; answers how many rows the windows deleted. */
async function walk(statement: (after: string) => ReturnType<typeof sql.purgeInstances>): Promise<number> {
  let deleted = 0;
  for (let after = FIRST_ID; ; ) {
    const [row] = await query<{ deleted: number; scanned: number; last: string | null }>(statement(after));
    deleted += row!.deleted;
    if (row!.scanned < WINDOW || !row!.last) return deleted;
    after = row!.last;
  }
}

/**
 * Deletes finished instances (with their attempts), closed batches whose delivery went,
 * and events no delivery refers to, older than `days`; expired inboxes too. An instance
 * still waiting is kept, and so is its event. The cost is the rows older than the cutoff,
 * read once along the primary key in short transactions, not the whole history.
 */
export async function purgeOlderThan(days: number, now = new Date()): Promise<{ instances: number; events: number; inboxes: number }> {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  const upTo = firstIdAt(new Date(cutoff.getTime() + 1));
  const instances = await walk((after) => sql.purgeInstances(after, upTo, cutoff, WINDOW));
  await walk((after) => sql.purgeBatches(after, upTo, cutoff, WINDOW));
  const events = await walk((after) => sql.purgeEvents(after, upTo, cutoff, WINDOW));
  const [inboxes] = await query<{ deleted: number }>(sql.purgeInboxes(now));
  return { instances, events, inboxes: inboxes!.deleted };
}

/** Runs the purge every night at 03:17 (pg-boss runs a schedule once across all processes). */
export async function schedulePurge(days: number, log: Logger): Promise<void> {
  const boss = queue();
  await ensureQueue(boss, PURGE_QUEUE);
  await boss.schedule(PURGE_QUEUE, '17 3 * * *');
  await boss.work(PURGE_QUEUE, async () => {
    const purged = await purgeOlderThan(days);
    log.info({ ...purged, days }, 'purged old deliveries');
  });
}
