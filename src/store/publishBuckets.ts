import { query } from '../db/client.ts';
import * as sql from './sql/tenants.ts';

export interface Taken {
  /** Whether the events were admitted (their tokens taken). */
  taken: boolean;
  /** Tokens there were (refilled to now), for how long to wait; null: the bucket was new (full). */
  available: number | null;
  rate: number;
  burst: number;
  /** The tenant's catalog version as of this statement (store/catalog.ts). */
  catalogVersion: bigint;
}

/**
 * Takes `events` tokens from the tenant's publish bucket in one statement (refilled at its rate up to its burst; a new one starts full);
 * nothing is taken when there are too few. The same statement reads the tenant's catalog version.
 */
export async function takeTokens(tenantId: string, events: number, defaults: { rate: number; burst: number }): Promise<Taken> {
  const [row] = await query<{ taken: number; available: number | null; rate: number; burst: number; version: string }>(sql.takePublishTokens(tenantId, events, defaults));
  return { taken: row!.taken > 0, available: row!.available, rate: row!.rate, burst: row!.burst, catalogVersion: BigInt(row!.version) };
}

/** Gives back the tokens of a call refused after they were taken. */
export async function returnTokens(tenantId: string, events: number, defaults: { burst: number }): Promise<void> {
  await query(sql.returnPublishTokens(tenantId, events, defaults));
}
