import { query } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { ensureQueue, PURGE_QUEUE, queue } from '../queue/boss.ts';
import * as sql from './sql/retention.ts';
import { purgeHours } from './sql/series.ts';

/** Rows read per purge window: each window is one short transaction, so delivery goes on between them. */
const WINDOW = 2000;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** The smallest UUID v7 of a moment: every id made before it sorts below it. */
export function firstIdAt(at: Date): string {
  const hex = Math.max(0, at.getTime()).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

export interface Purged {
  instances: number;
  events: number;
  inboxes: number;
  portalSessions: number;
}

/** Deletes one tenant's finished deliveries and unreferenced events older than `cutoff`, then its batches whose delivery went. */
async function purgeTenant(tenantId: string, cutoff: Date, purged: Purged): Promise<void> {
  const upTo = firstIdAt(new Date(cutoff.getTime() + 1));
  for (let after = FIRST_ID; ; ) {
    const [window] = await query<{ deleted: number; scanned: number; last: string | null }>(sql.purgeInstances(tenantId, after, upTo, cutoff, WINDOW));
    if (!window!.last) break;
    purged.instances += window!.deleted;
    const [events] = await query<{ deleted: number }>(sql.purgeEvents(tenantId, after, window!.last, cutoff));
    purged.events += events!.deleted;
    if (window!.scanned < WINDOW) break;
    after = window!.last;
  }
  for (;;) {
    const [batches] = await query<{ deleted: number }>(sql.purgeBatches(tenantId, cutoff, WINDOW));
    if (batches!.deleted < WINDOW) break;
  }
  // The charts' hours go with the deliveries they counted.
  for (;;) {
    const [hours] = await query<{ deleted: number }>(purgeHours(tenantId, cutoff, WINDOW));
    if (hours!.deleted < WINDOW) break;
  }
}

/**
 * Deletes what is older than each tenant's retention (finished and held deliveries with their attempts, closed batches, unreferenced
 * events, expired inboxes and portal sessions), keeping what is on its way; reads only the rows past each cutoff.
 */
export async function purgeOld(defaultDays: number, now = new Date()): Promise<Purged> {
  const purged: Purged = { instances: 0, events: 0, inboxes: 0, portalSessions: 0 };
  for (const tenant of await query<{ id: string; days: number | null }>(sql.retentionPeriods())) {
    await purgeTenant(tenant.id, new Date(now.getTime() - (tenant.days ?? defaultDays) * 86_400_000), purged);
  }
  const [inboxes] = await query<{ deleted: number }>(sql.purgeInboxes(now));
  purged.inboxes = inboxes!.deleted;
  const [sessions] = await query<{ deleted: number }>(sql.purgePortalSessions(now));
  purged.portalSessions = sessions!.deleted;
  return purged;
}

/** Runs the purge every night at 03:17 (pg-boss runs a schedule once across all processes). */
export async function schedulePurge(defaultDays: number, log: Logger): Promise<void> {
  const boss = queue();
  await ensureQueue(boss, PURGE_QUEUE);
  await boss.schedule(PURGE_QUEUE, '17 3 * * *');
  await boss.work(PURGE_QUEUE, async () => {
    const purged = await purgeOld(defaultDays);
    log.info({ ...purged, defaultDays }, 'purged old deliveries');
  });
}
