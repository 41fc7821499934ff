import { laneOf, laneOldestReadySeconds, readyLanes, tenantOfLane } from '../queue/boss.ts';
import { waitingByTenant } from '../store/stats.ts';

export interface TenantQueue {
  tenantId: string;
  /** Deliveries waiting to be sent (PENDING or RETRYING). */
  waiting: number;
  /** How long its oldest delivery that may go now has waited for a worker (0: none waits). */
  oldestWaitingSeconds: number;
}

/** What waits of one tenant: its deliveries waiting (the counters) and its lane's oldest ready job. */
export async function tenantQueue(tenantId: string): Promise<TenantQueue> {
  const [waiting, oldest] = await Promise.all([waitingByTenant([tenantId]), laneOldestReadySeconds(laneOf(tenantId))]);
  return { tenantId, waiting: waiting.get(tenantId) ?? 0, oldestWaitingSeconds: oldest };
}

/**
 * The tenants whose oldest ready delivery has waited longest, at most `limit` of them
 * (a bounded set of series for /metrics): a poll of the lanes, then the counters of those.
 */
export async function longestWaitingTenants(limit: number): Promise<TenantQueue[]> {
  if (limit === 0) return [];
  const lanes = (await readyLanes())
    .map((l) => ({ tenantId: tenantOfLane(l.lane), oldest: l.oldestReadySeconds }))
    .filter((l): l is { tenantId: string; oldest: number } => l.tenantId !== null)
    .sort((a, b) => b.oldest - a.oldest)
    .slice(0, limit);
  const waiting = await waitingByTenant(lanes.map((l) => l.tenantId));
  return lanes.map((l) => ({ tenantId: l.tenantId, waiting: waiting.get(l.tenantId) ?? 0, oldestWaitingSeconds: l.oldest }));
}
