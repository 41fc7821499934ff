/**
 * The gate in front of each webhook's receiver, one row per webhook shared by every worker: circuit breaker, rate limit, adaptive
 * in-flight window (docs/architecture.md, "How a delivery goes"); a webhook with none in force is not gated.
 */
export interface GateLimits {
  breakerFailures: number;
  breakerProbeMs: number;
  breakerMaxProbeMs: number;
  /** Requests a process sends one webhook at once; an adaptive window grows back to it. */
  webhookConcurrency: number;
}

/** What a gate row and its webhook's settings say (as the claim reads them). */
export interface GateState {
  failingAttempts: number;
  openUntil: Date | null;
  probeInstanceId: string | null;
  inFlightWindow: number | null;
}

export interface GateRow {
  /** The database's time (every gate time is on its clock, whichever process reads it). */
  now: Date;
  failing_attempts: number;
  open_until: Date | null;
  probe_ms: number;
  probe_instance_id: string | null;
  in_flight_window: number | null;
  tokens: number;
  tokens_at: Date | null;
  rate_limit_per_second: number | null;
  rate_limit_in_flight: number | null;
  timeout_ms: number;
}

export interface Admission {
  send: string[];
  park: string[];
  wait: string[];
  /** How long the waiting ones wait before trying again. */
  retryInMs: number | null;
  /** The gate row after this admission. */
  tokens: number;
  tokensAt: Date;
  openUntil: Date | null;
  probeInstanceId: string | null;
}

/** While in-flight places are full, how often a waiting delivery looks again (another process may have finished one). */
const IN_FLIGHT_RETRY_MS = 100;

/**
 * Which of `wanted` go now, which wait for the circuit (parked), and which wait their
 * turn under the limits: a pure decision over the gate row, the requests in flight and the time.
 */
export function admit(row: GateRow, wanted: Array<{ id: string; manual: boolean }>, inFlight: number, now: Date): Admission {
  let candidates = wanted;
  const park: string[] = [];
  let probe: string | null = null;
  let openUntil = row.open_until;
  if (openUntil) {
    // A person's re-trigger goes regardless; automatic deliveries wait, but for one probe when it is due.
    const auto = candidates.filter((c) => !c.manual);
    candidates = candidates.filter((c) => c.manual);
    if (now >= openUntil && auto.length > 0) {
      probe = auto[0]!.id;
      candidates = [...candidates, auto[0]!];
      park.push(...auto.slice(1).map((c) => c.id));
    } else {
      park.push(...auto.map((c) => c.id));
    }
  }
  let room = Number.POSITIVE_INFINITY;
  const inFlightLimit = Math.min(row.rate_limit_in_flight ?? Number.POSITIVE_INFINITY, row.in_flight_window ?? Number.POSITIVE_INFINITY);
  if (Number.isFinite(inFlightLimit)) room = Math.max(0, inFlightLimit - inFlight);
  let tokens = row.tokens;
  // Times only move forward: a transaction that began before the last one to hold the gate finished refills nothing.
  const tokensAt = row.tokens_at && row.tokens_at > now ? row.tokens_at : now;
  const rate = row.rate_limit_per_second;
  if (rate) {
    const capacity = Math.max(1, rate / 5);
    tokens = row.tokens_at ? Math.min(capacity, tokens + ((tokensAt.getTime() - row.tokens_at.getTime()) / 1000) * rate) : capacity;
    room = Math.min(room, Math.max(0, Math.floor(tokens)));
  }
  const send = candidates.slice(0, room).map((c) => c.id);
  const wait = candidates.slice(room).map((c) => c.id);
  if (rate) tokens -= send.length;
  let retryInMs: number | null = null;
  if (wait.length) {
    const tokenMs = rate && tokens < 1 ? tokensAt.getTime() - now.getTime() + Math.ceil(((1 - tokens) / rate) * 1000) : 0;
    const inFlightFull = Number.isFinite(inFlightLimit) && inFlight + send.length >= inFlightLimit;
    retryInMs = Math.max(tokenMs, inFlightFull ? IN_FLIGHT_RETRY_MS : 0, 1);
  }
  let probeInstanceId = row.probe_instance_id;
  if (probe && send.includes(probe)) {
    // One probe at a time: none other before this one has had its whole timeout.
    probeInstanceId = probe;
    openUntil = new Date(now.getTime() + row.timeout_ms + Math.max(row.probe_ms, 1000));
  }
  return { send, park, wait, retryInMs, tokens, tokensAt, openUntil, probeInstanceId };
}
