import { describe, expect, it } from 'vitest';
import { admit, type GateRow } from '../src/rules/admission.ts';
import { gateRow } from './support/gates.ts';

const now = new Date('2026-12-02T10:00:00.000Z');
const at = (ms: number) => new Date(now.getTime() + ms);
const gate = (over: Partial<GateRow> = {}) => gateRow(now, over);
const wanted = (n: number, manual = false) => Array.from({ length: n }, (_, i) => ({ id: `i${i}`, manual }));

describe('which deliveries pass a gate', () => {
  it('a rate limit starts with a fifth of a second of burst, then refills at its rate', () => {
    const first = admit(gate({ rate_limit_per_second: 20 }), wanted(10), 0, now);
    expect(first).toMatchObject({ send: ['i0', 'i1', 'i2', 'i3'], park: [], tokens: 0, retryInMs: 50 });
    expect(first.wait).toHaveLength(6);
    const later = admit(gate({ rate_limit_per_second: 20, tokens: 0, tokens_at: at(-100) }), wanted(10), 0, now);
    expect(later.send).toEqual(['i0', 'i1']);
    const full = admit(gate({ rate_limit_per_second: 20, tokens: 0, tokens_at: at(-60_000) }), wanted(10), 0, now);
    expect(full.send).toHaveLength(4); // the bucket holds no more than its burst
  });

  it('a transaction that began before the last holder finished refills nothing and sends nothing it has no token for', () => {
    const late = admit(gate({ rate_limit_per_second: 20, tokens: 0.5, tokens_at: at(200) }), wanted(5), 0, now);
    expect(late.send).toEqual([]);
    expect(late.wait).toHaveLength(5);
    expect(late.tokensAt).toEqual(at(200));
    expect(late.retryInMs).toBe(200 + 25);
  });

  it('in-flight places: a limit and a reduced window, whichever is smaller', () => {
    expect(admit(gate({ rate_limit_in_flight: 3 }), wanted(5), 1, now)).toMatchObject({ send: ['i0', 'i1'], retryInMs: 100 });
    expect(admit(gate({ rate_limit_in_flight: 3, in_flight_window: 1 }), wanted(5), 0, now).send).toEqual(['i0']);
    expect(admit(gate({ in_flight_window: 2 }), wanted(5), 4, now).send).toEqual([]);
  });

  it('an open circuit parks automatic deliveries until its probe is due, then lets one through, guarding it for its timeout', () => {
    const open = admit(gate({ open_until: at(1000), probe_ms: 5000 }), wanted(3), 0, now);
    expect(open).toMatchObject({ send: [], wait: [], park: ['i0', 'i1', 'i2'], probeInstanceId: null, openUntil: at(1000) });
    const due = admit(gate({ open_until: at(-1), probe_ms: 5000 }), wanted(3), 0, now);
    expect(due).toMatchObject({ send: ['i0'], park: ['i1', 'i2'], probeInstanceId: 'i0', openUntil: at(10_000 + 5000) });
    const manual = admit(gate({ open_until: at(1000) }), [{ id: 'm', manual: true }, { id: 'a', manual: false }], 0, now);
    expect(manual).toMatchObject({ send: ['m'], park: ['a'] });
  });

  it('a due probe that finds no in-flight place waits, and is not recorded as the probe', () => {
    const due = admit(gate({ open_until: at(-1), probe_ms: 5000, in_flight_window: 1 }), wanted(2), 1, now);
    expect(due).toMatchObject({ send: [], wait: ['i0'], park: ['i1'], probeInstanceId: null, openUntil: at(-1) });
  });
});
