// The dashboard's live list (web/src/liveRows.ts): changes in place, new rows in order,
// and a cut that never splits the rows of one moment (paging on from it misses none).
import { describe, expect, it } from 'vitest';
import { applyChanges, withOlder } from '../web/src/liveRows.ts';

// Moments as the API writes them (ISO, milliseconds, UTC), which sort as text.
const row = (id: string, at: string, status = 'PENDING') => ({ id, createdAt: new Date(at).toISOString(), status });

describe('a live list', () => {
  it('changes a row in place and puts new rows in order, newest first', () => {
    const list = [row('b', '2026-01-01T00:00:02Z'), row('a', '2026-01-01T00:00:01Z')];
    const { rows, cut } = applyChanges(list, [row('a', '2026-01-01T00:00:01Z', 'COMPLETED'), row('c', '2026-01-01T00:00:03Z'), row('x', '2026-01-01T00:00:01.5Z')]);
    expect(rows.map((r) => `${r.id}:${r.status}`)).toEqual(['c:PENDING', 'b:PENDING', 'x:PENDING', 'a:COMPLETED']);
    expect(cut).toBe(false);
    expect(list.map((r) => r.status)).toEqual(['PENDING', 'PENDING']); // the list given is left as it was
  });

  it('keeps the newest rows past its size, with every row of the oldest moment kept', () => {
    const list = Array.from({ length: 5 }, (_, i) => row(`r${i}`, `2026-01-01T00:00:0${5 - i}Z`));
    const tie = [row('t1', '2026-01-01T00:00:02Z'), row('t2', '2026-01-01T00:00:02Z')];
    const { rows, cut } = applyChanges(list, tie, 4);
    // r0..r2 (5, 4, 3 s) and the moment at 2 s: r3, t1, t2, all of it; r4 (1 s) is cut.
    expect(rows.map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 't2', 't1', 'r3']);
    expect(cut).toBe(true);
    expect(applyChanges(list, [], 5).cut).toBe(false);
  });

  it('takes an older page in order, once, when a live change brought one of its rows first', () => {
    // The newest page shows b; a's change came live (sorted to the end); then the page b..a loads.
    const live = applyChanges([row('c', '2026-01-01T00:00:03Z')], [row('a', '2026-01-01T00:00:01Z', 'COMPLETED')]).rows;
    const rows = withOlder(live, [row('b', '2026-01-01T00:00:02Z'), row('a', '2026-01-01T00:00:01Z')]);
    expect(rows.map((r) => `${r.id}:${r.status}`)).toEqual(['c:PENDING', 'b:PENDING', 'a:COMPLETED']);
  });
});
