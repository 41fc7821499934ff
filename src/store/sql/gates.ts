import { Prisma } from '../../generated/prisma/client.ts';

/** Every statement on webhook_gate, the row each webhook’s gate keeps (rules/admission.ts and rules/failures.ts decide). */

/** Whether a claim must go through the gate (`w` the webhook, `g` its gate row, maybe missing). */
export const GATED = Prisma.sql`(w.rate_limit_per_second IS NOT NULL OR w.rate_limit_in_flight IS NOT NULL OR g.open_until IS NOT NULL OR g.in_flight_window IS NOT NULL)`;

/** A webhook's gate row with its limits and the database's time, locked. */
export function lockGate(webhookId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT now() AS now, g.failing_attempts, g.open_until, g.probe_ms, g.probe_instance_id::text AS probe_instance_id, g.in_flight_window, g.tokens, g.tokens_at,
      w.rate_limit_per_second, w.rate_limit_in_flight, w.timeout_ms
    FROM webhook_gate g JOIN webhook w ON w.id = g.webhook_id WHERE g.webhook_id = ${webhookId}::uuid FOR UPDATE OF g`;
}

export function createGate(webhookId: string): Prisma.Sql {
  return Prisma.sql`INSERT INTO webhook_gate (webhook_id) VALUES (${webhookId}::uuid) ON CONFLICT DO NOTHING`;
}

/** What an admission leaves in the row: the token bucket and the probe. */
export function admitted(webhookId: string, a: { tokens: number; tokensAt: Date; openUntil: Date | null; probeInstanceId: string | null }): Prisma.Sql {
  return Prisma.sql`
    UPDATE webhook_gate SET tokens = ${a.tokens}, tokens_at = ${a.tokensAt}, open_until = ${a.openUntil}, probe_instance_id = ${a.probeInstanceId}::uuid
    WHERE webhook_id = ${webhookId}::uuid`;
}

/** What outcomes leave in the row: failures in a row, the circuit, the window; `reason` undefined keeps the one there. */
export function recorded(
  webhookId: string,
  g: { failing: number; openUntil: Date | null; probeMs: number; probeId: string | null; window: number | null; reason: string | null | undefined },
): Prisma.Sql {
  return Prisma.sql`
    UPDATE webhook_gate SET failing_attempts = ${g.failing}, open_until = ${g.openUntil}, probe_ms = ${g.probeMs}, probe_instance_id = ${g.probeId}::uuid,
      in_flight_window = ${g.window}, open_reason = ${g.reason === undefined ? Prisma.sql`open_reason` : Prisma.sql`${g.reason}`}
    WHERE webhook_id = ${webhookId}::uuid`;
}

/** A person resuming says the receiver is back: the circuit closes and any slow-down is forgotten. */
export function resetGate(webhookId: string): Prisma.Sql {
  return Prisma.sql`
    UPDATE webhook_gate SET failing_attempts = 0, open_until = NULL, open_reason = NULL, probe_ms = 0, probe_instance_id = NULL, in_flight_window = NULL
    WHERE webhook_id = ${webhookId}::uuid`;
}

/** An open circuit's wait, locked, and whether it is over. */
export function lockProbe(webhookId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT open_until, open_until <= now() + interval '50 milliseconds' AS due FROM webhook_gate WHERE webhook_id = ${webhookId}::uuid FOR UPDATE`;
}

/** A webhook's circuit as people read it, with how many deliveries wait for it. */
export function circuit(webhookId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT g.failing_attempts, g.open_until, g.open_reason, g.in_flight_window,
      (SELECT count(*)::int FROM instance WHERE webhook_id = ${webhookId}::uuid AND parked) AS parked
    FROM (SELECT 1) one LEFT JOIN webhook_gate g ON g.webhook_id = ${webhookId}::uuid`;
}
