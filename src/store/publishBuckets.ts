import { query } from '../db/client.ts';
import * as sql from './sql/tenants.ts';

export interface Taken {
  /** Whether the events were admitted (their tokens taken). */
  taken: boolean;
  /** Tokens there were (refilled to now), for how long to wait; null: the bucket was new (full). */
  available: number | null;
  rate: number;
  burst: number;
}

/**
 * Takes `events` tokens from the tenant's publish bucket in one statement (refilled at its rate up to its burst; a new one starts full);
 * nothing is taken when there are too few.
 */
export async function takeTokens(tenantId: string, events: number, defaults: { rate: number; burst: number }): Promise<Taken> {
  const [row] = await query<{ taken: number; available: number | null; rate: number; burst: number }>(sql.takePublishTokens(tenantId, events, defaults));
  return { taken: row!.taken > 0, available: row!.available, rate: row!.rate, burst: row!.burst };
}
