import { db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { ensureQueue, queue } from '../queue/boss.ts';

export const PURGE_QUEUE = 'purge';

/**
 * Deletes finished instances (with their attempts) and events older than `days`.
 * An instance still pending or retrying is kept, and so is its event. Expired inboxes go too.
 */
export async function purgeOlderThan(days: number, now = new Date()): Promise<{ instances: number; events: number; inboxes: number }> {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  const instances = await db().instance.deleteMany({
    where: { createdAt: { lt: cutoff }, status: { in: ['COMPLETED', 'FAILED', 'CANCELLED'] } },
  });
  const events = await db().event.deleteMany({ where: { createdAt: { lt: cutoff }, instances: { none: {} } } });
  const inboxes = await db().inbox.deleteMany({ where: { expiresAt: { lt: now } } });
  return { instances: instances.count, events: events.count, inboxes: inboxes.count };
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
