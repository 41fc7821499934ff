import { fromPrisma } from 'pg-boss';
import { db, type Tx } from '../db/client.ts';
import { notify } from '../pubsub/changes.ts';
import { enqueueDeliveries, queue, WEBHOOK_STATE_QUEUE } from '../queue/boss.ts';
import { admit, type GateLimits, type GateRow } from '../rules/admission.ts';
import { gateAfter, gateTouched, needsInFlight, type Passed } from '../rules/failures.ts';
import { groupBy } from '../rules/values.ts';
import * as sql from './sql/gates.ts';
import * as instanceSql from './sql/instances.ts';

/** The gate in front of each webhook’s receiver (rules/admission.ts and rules/failures.ts decide; this reads and writes its row). */



/**
 * Passes deliveries of one webhook through its gate, in one transaction that holds the
 * gate row: claims (with `claimIn`) those that may go, parks those the open circuit
 * holds, and answers those that must wait with when to try again.
 */
export async function throughGate<C>(
  webhookId: string,
  wanted: Array<{ instanceId: string; takeOver: boolean; retry: boolean; manual: boolean }>,
  claimIn: (tx: Tx, wanted: Array<{ instanceId: string; takeOver: boolean; retry: boolean; manual: boolean }>) => Promise<C[]>,
): Promise<{ claimed: C[]; parked: string[]; waiting: string[]; retryInMs: number | null }> {
  return db().$transaction(async (tx) => {
    const row = await lockGate(tx, webhookId);
    const limited = row.rate_limit_in_flight !== null || row.in_flight_window !== null;
    const inFlight = limited
      ? (await tx.$queryRaw<Array<{ n: number }>>(instanceSql.countInStatus(webhookId, 'SENDING')))[0]!.n
      : 0;
    const byId = new Map(wanted.map((w) => [w.instanceId, w]));
    const admission = admit(row, [...byId.values()].map((w) => ({ id: w.instanceId, manual: w.manual })), inFlight, row.now);
    const claimed = admission.send.length ? await claimIn(tx, admission.send.map((id) => byId.get(id)!)) : [];
    if (admission.park.length) {
      const takenOver = admission.park.filter((id) => byId.get(id)!.takeOver);
      await tx.$executeRaw(instanceSql.park(admission.park, takenOver));
    }
    await tx.$executeRaw(sql.admitted(webhookId, admission));
    return { claimed, parked: admission.park, waiting: admission.wait, retryInMs: admission.retryInMs };
  });
}

/** A webhook's gate row with its limits, locked for this transaction (made first if it has none). */
async function lockGate(tx: Tx, webhookId: string): Promise<GateRow> {
  const read = () => tx.$queryRaw<GateRow[]>(sql.lockGate(webhookId));
  const [row] = await read();
  if (row) return row;
  await tx.$executeRaw(sql.createGate(webhookId));
  return (await read())[0]!;
}

/**
 * Records outcomes at their webhooks' gates, in the settle transaction, as the failure
 * policy says (rules/failures.ts gateAfter); a circuit that closes releases what was parked.
 */
export async function recordAtGates(tx: Tx, outcomes: Passed[], limits: GateLimits): Promise<void> {
  for (const [webhookId, list] of groupBy(outcomes.filter(gateTouched), (o) => o.webhookId)) {
    const gate = await lockGate(tx, webhookId);
    const { failing, openUntil, probeMs, probeId, window, reason, opened, closed } = gateAfter(gate, list, limits, needsInFlight(gate, list) ? await inFlightOf(tx, webhookId) : 0);
    await tx.$executeRaw(sql.recorded(webhookId, { failing, openUntil, probeMs, probeId, window, reason }));
    const tenantId = list[0]!.tenantId;
    if (closed || opened || (gate.in_flight_window === null) !== (window === null)) await notify(tx, [{ k: 'webhook', t: tenantId, id: webhookId }]);
    // Parked deliveries go again once it closes; while open, a probe job wakes one when it is due.
    // (and a pass later, for deliveries a publish in flight parked after reading the circuit as open)
    if (closed) {
      await queue().insert(WEBHOOK_STATE_QUEUE, [{ data: { webhookId } }, { data: { webhookId }, startAfter: new Date(Date.now() + 10_000) }], { db: fromPrisma(tx) });
    }
    if (opened && openUntil) await queue().insert(WEBHOOK_STATE_QUEUE, [{ data: { webhookId, probe: true }, startAfter: openUntil }], { db: fromPrisma(tx) });
  }
}

async function inFlightOf(tx: Tx, webhookId: string): Promise<number> {
  const [row] = await tx.$queryRaw<Array<{ n: number }>>(instanceSql.countInStatus(webhookId, 'SENDING'));
  return (row?.n ?? 0) + 1;
}

/**
 * The probe job: when an open circuit's wait is over, the oldest parked delivery gets
 * a job again (the gate lets it through as the probe). Nothing parked: the next
 * delivery to come is the probe.
 */
export async function wakeProbe(webhookId: string): Promise<void> {
  await db().$transaction(async (tx) => {
    const [gate] = await tx.$queryRaw<Array<{ open_until: Date | null; due: boolean }>>(sql.lockProbe(webhookId));
    if (!gate?.open_until) return; // closed meanwhile: what was parked is released with it
    if (!gate.due) {
      await queue().insert(WEBHOOK_STATE_QUEUE, [{ data: { webhookId, probe: true }, startAfter: gate.open_until }], { db: fromPrisma(tx) });
      return;
    }
    const woken = await tx.$queryRaw<Array<{ id: string; tenant_id: string; status: string }>>(instanceSql.unparkOldest(webhookId));
    await enqueueDeliveries(tx, woken.map((w) => ({ instanceId: w.id, tenantId: w.tenant_id, webhookId, trigger: 'AUTO' as const, retry: w.status === 'RETRYING' })));
  });
}

/** A webhook's circuit as people read it (Webhook.circuit). */
export async function circuitOf(webhookId: string) {
  const [row] = await db().$queryRaw<Array<{ failing_attempts: number | null; open_until: Date | null; open_reason: string | null; in_flight_window: number | null; parked: number }>>(
    sql.circuit(webhookId),
  );
  return {
    open: row?.open_until != null,
    failingAttempts: row?.failing_attempts ?? 0,
    reason: row?.open_until ? row.open_reason : null,
    nextProbeAt: row?.open_until ?? null,
    inFlightLimit: row?.in_flight_window ?? null,
    parkedDeliveries: row?.parked ?? 0,
  };
}
