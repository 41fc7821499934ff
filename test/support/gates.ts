import type { GateRow } from '../../src/rules/admission.ts';

/** A webhook's gate row as the store reads it: clean (nothing failing, nothing held back) unless told otherwise. */
export const gateRow = (now: Date, over: Partial<GateRow> = {}): GateRow => ({
  now,
  failing_attempts: 0,
  open_until: null,
  probe_ms: 0,
  probe_instance_id: null,
  in_flight_window: null,
  tokens: 0,
  tokens_at: null,
  rate_limit_per_second: null,
  rate_limit_in_flight: null,
  timeout_ms: 10_000,
  ...over,
});
