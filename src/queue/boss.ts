import { fromPrisma, PgBoss, type Job } from 'pg-boss';
import type { Statement, Tx } from '../db/client.ts';
import type { Logger } from '../logger.ts';

export type { PgBoss };

/** The queue of deliveries: one job per attempt to send an instance. */
export const DELIVER_QUEUE = 'deliver';
export interface DeliverJob {
  instanceId: string;
  trigger: 'AUTO' | 'MANUAL';
}

/** A job whose process dies (no heartbeat for 10 s) or whose handler fails runs again. */
export const DELIVER_QUEUE_OPTIONS = {
  notify: true,
  heartbeatSeconds: 10,
  expireInSeconds: 120,
  retryLimit: 20,
  retryDelay: 1,
  retryBackoff: true,
  retryDelayMax: 300,
};

let current: PgBoss | undefined;

/** Starts pg-boss on Herald's database (its tables live in the `pgboss` schema). */
export async function startQueue(databaseUrl: string, log: Logger, options: { max?: number } = {}): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: 'pgboss',
    application_name: 'herald-queue',
    max: options.max ?? 10,
    useListenNotify: true,
    // Notice a dead worker's jobs (missed heartbeats) within seconds, not minutes.
    superviseIntervalSeconds: 5,
    monitorIntervalSeconds: 5,
  });
  boss.on('error', (error) => log.error({ err: error }, 'queue error'));
  boss.on('warning', (warning) => log.warn({ warning }, 'queue warning'));
  await boss.start();
  await boss.createQueue(DELIVER_QUEUE, DELIVER_QUEUE_OPTIONS);
  await boss.createQueue('close-batch', { notify: true, heartbeatSeconds: 10, retryLimit: 20, retryDelay: 1, retryBackoff: true });
  current = boss;
  return boss;
}

export function queue(): PgBoss {
  if (!current) throw new Error('the queue is not started yet');
  return current;
}

export function forgetQueue(): void {
  current = undefined;
}

type NewDelivery = DeliverJob & { webhookId: string; startAfter?: Date };

/**
 * Enqueues deliveries inside the caller's transaction: they exist if and only if it
 * commits. Each job is in its webhook's group, so workers can cap how many of one
 * webhook's deliveries are in flight at once (a slow receiver cannot take every place).
 */
export async function enqueueDeliveries(tx: Tx, jobs: NewDelivery[]): Promise<void> {
  if (jobs.length === 0) return;
  await queue().insert(DELIVER_QUEUE, jobs.map(jobOf), { db: fromPrisma(tx) });
}

/** The statement that enqueues deliveries, for a transaction sent in one round trip (`inOneTrip`). */
export function enqueueStatement(jobs: NewDelivery[]): Promise<Statement> {
  return statementOf((db) => queue().insert(DELIVER_QUEUE, jobs.map(jobOf), { db }));
}

/** Completes fetched delivery jobs (fenced to the attempt fetched) inside the caller's transaction. */
export async function completeDeliveries(tx: Tx, jobs: Array<Pick<Job, 'id'> & { retryCount: number }>): Promise<void> {
  if (jobs.length) await queue().complete(DELIVER_QUEUE, jobs, null, { db: fromPrisma(tx) });
}

/** The statement that completes fetched delivery jobs (fenced to the attempt fetched), for a transaction sent in one round trip. */
export function completeStatement(jobs: Array<Pick<Job, 'id'> & { retryCount: number }>): Promise<Statement> {
  return statementOf((db) => queue().complete(DELIVER_QUEUE, jobs, null, { db }));
}

function jobOf({ startAfter, webhookId, ...data }: NewDelivery) {
  return { data, group: { id: webhookId }, ...(startAfter ? { startAfter } : {}) };
}

/** The one statement pg-boss runs for `act`, captured instead of run. */
async function statementOf(act: (db: { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> }) => Promise<unknown>): Promise<Statement> {
  const captured: Statement[] = [];
  await act({
    executeSql: async (text, values = []) => {
      captured.push({ text, values });
      return { rows: [{ count: '0', ids: [] }] };
    },
  });
  if (captured.length !== 1) throw new Error(`pg-boss ran ${captured.length} statements where one was expected`);
  return captured[0]!;
}
