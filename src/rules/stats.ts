import { InstanceStatus } from '../generated/prisma/enums.ts';

/** A webhook's instances counted by status, with when the last of each changed. */
export interface StatusGroup {
  status: InstanceStatus;
  count: number;
  lastAt: Date | null;
}

/** What a webhook's stats say: counts by status, success rate (COMPLETED / finished), last delivery, last success and last failure. */
export function webhookStats(groups: StatusGroup[]) {
  const count = (s: InstanceStatus) => groups.find((g) => g.status === s)?.count ?? 0;
  const finished = count('COMPLETED') + count('FAILED');
  const last = groups.map((g) => g.lastAt).filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0];
  return {
    total: groups.reduce((n, g) => n + g.count, 0),
    byStatus: Object.values(InstanceStatus).map((status) => ({ status, count: count(status) })),
    successRate: finished ? count('COMPLETED') / finished : null,
    lastDeliveryAt: last ?? null,
    lastSuccessAt: groups.find((g) => g.status === 'COMPLETED')?.lastAt ?? null,
    lastFailureAt: groups.find((g) => g.status === 'FAILED')?.lastAt ?? null,
  };
}
