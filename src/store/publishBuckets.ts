import { query } from '../db/client.ts';

export interface Taken {
  /** Whether the events were admitted (their tokens taken). */
  taken: boolean;
  /** Tokens there were (refilled to now), for how long to wait; null: the bucket was new (full). */
  available: number | null;
  rate: number;
  burst: number;
}

/**
 * Takes `events` tokens from a tenant's publish bucket if it has them, in one statement
 * (its row locked only while it runs): refilled at the tenant's rate (or the server's)
 * since it was last taken from, up to its burst. A new bucket starts full. Nothing is
 * taken when there are too few.
 */
export async function takeTokens(tenantId: string, events: number, defaults: { rate: number; burst: number }): Promise<Taken> {
  const [row] = await query<{ taken: number; available: number | null; rate: number; burst: number }>(takeStatement(tenantId, events, defaults));
  return { taken: row!.taken > 0, available: row!.available, rate: row!.rate, burst: row!.burst };
}

export const takeStatement = (tenantId: string, events: number, defaults: { rate: number; burst: number }) => ({ text: TAKE, values: [tenantId, defaults.rate, defaults.burst, events] });

const TAKE = `
  WITH lim AS (SELECT COALESCE(publish_rate, $2)::float8 AS rate, COALESCE(publish_burst, $3)::float8 AS burst FROM tenant WHERE id = $1),
  cur AS (SELECT LEAST(lim.burst, b.tokens + lim.rate * extract(epoch FROM now() - b.at)) AS available FROM publish_bucket b, lim WHERE b.tenant_id = $1),
  taken AS (
    INSERT INTO publish_bucket AS b (tenant_id, tokens, at) SELECT $1, lim.burst - $4, now() FROM lim WHERE lim.burst >= $4
    ON CONFLICT (tenant_id) DO UPDATE SET
      tokens = LEAST((SELECT burst FROM lim), b.tokens + (SELECT rate FROM lim) * extract(epoch FROM now() - b.at)) - $4, at = now()
    WHERE LEAST((SELECT burst FROM lim), b.tokens + (SELECT rate FROM lim) * extract(epoch FROM now() - b.at)) >= $4
    RETURNING 1)
  SELECT (SELECT count(*) FROM taken)::int AS taken, (SELECT available FROM cur)::float8 AS available, lim.rate, lim.burst FROM lim`;
