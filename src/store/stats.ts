import { query } from '../db/client.ts';
import type { StatusGroup } from '../rules/stats.ts';
import { foldSeries } from './series.ts';
import * as sql from './sql/instances.ts';

/** Instances of each of `webhookIds` counted by status, in one statement (answers in the order asked). */
export async function statusGroups(webhookIds: readonly string[]): Promise<StatusGroup[][]> {
  const rows = await query<{ webhook_id: string } & StatusGroup>(sql.statusGroups(webhookIds));
  return webhookIds.map((id) => rows.filter((r) => r.webhook_id === id).map(({ status, count, lastAt }) => ({ status, count, lastAt })));
}

/** Every delivery counted by status, all webhooks together (seven rows and the deltas not folded yet). */
export async function deliveryTotals(): Promise<Array<{ status: string; count: number }>> {
  return query<{ status: string; count: number }>(sql.statusTotals());
}

/** Deliveries waiting to be sent (PENDING or RETRYING) of each tenant, from the counters. */
export async function waitingByTenant(tenantIds: readonly string[]): Promise<Map<string, number>> {
  if (tenantIds.length === 0) return new Map();
  const rows = await query<{ tenant_id: string; waiting: number }>(sql.waitingByTenant(tenantIds));
  return new Map(rows.map((r) => [r.tenant_id, r.waiting]));
}

/** Deltas folded per statement. */
const ROLL_UP_STEP = 10_000;

/** Folds the count deltas into the counters, a step at a time until none are left; answers how many. */
export async function rollUpCounts(): Promise<number> {
  let total = 0;
  for (;;) {
    const [row] = await query<{ moved: number }>(sql.rollUpCounts(ROLL_UP_STEP));
    total += row?.moved ?? 0;
    if ((row?.moved ?? 0) < ROLL_UP_STEP) return total;
  }
}

/** Rolls up every `everyMs` until stopped, counts and the charts' series (every process does: the steps never overlap). */
export function startRollUps(everyMs: number, onError: (error: unknown) => void): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => rollUpCounts().catch(onError)).then(() => foldSeries().catch(onError));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
