import { db, type Tx } from '../db/client.ts';

export type { Tx };

/**
 * Runs `work` in one transaction: use-cases compose store operations with it, passing the
 * transaction on without touching the database themselves.
 */
export function inTransaction<T>(work: (tx: Tx) => Promise<T>, options?: { timeoutMs?: number }): Promise<T> {
  return db().$transaction(work, options?.timeoutMs ? { timeout: options.timeoutMs } : undefined);
}
