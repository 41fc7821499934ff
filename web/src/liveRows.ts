// A live list of records, newest first, that takes bursts: changes are buffered and
// applied together at most every FLUSH_MS (one render for many messages), and the list
// keeps its newest `max` rows (older ones are paged in again on demand).
import { useCallback, useEffect, useRef } from 'react';

export interface Timed {
  id: string;
  createdAt: string;
}

/** How many rows a live list keeps: what a person can scroll through; older ones are paged. */
export const MAX_ROWS = 1000;
/** Changes are applied at most this often (4 renders a second under a burst). */
export const FLUSH_MS = 250;

const newestFirst = (a: Timed, b: Timed) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/**
 * The list with `changes` applied: a row changed in place, new rows in order. Past `max`
 * rows the oldest are cut, but never some rows of a moment and not the others, so that
 * paging from the oldest kept moment (created before it) misses none. `cut`: whether any were.
 */
export function applyChanges<T extends Timed>(list: readonly T[], changes: Iterable<T>, max = MAX_ROWS): { rows: T[]; cut: boolean } {
  const at = new Map(list.map((row, i) => [row.id, i]));
  let rows = [...list];
  const added: T[] = [];
  for (const change of changes) {
    const i = at.get(change.id);
    if (i === undefined) {
      at.set(change.id, -1 - added.length);
      added.push(change);
    } else if (i < 0) added[-1 - i] = change;
    else rows[i] = change;
  }
  if (added.length) rows = [...added, ...rows].sort(newestFirst);
  if (rows.length <= max) return { rows, cut: false };
  let end = max;
  while (end < rows.length && rows[end]!.createdAt === rows[max - 1]!.createdAt) end += 1;
  return { rows: rows.slice(0, end), cut: end < rows.length };
}

/**
 * The list with an older page added: rows it already has (a live change may have brought
 * one before its page came) are kept once, and the whole stays newest first.
 */
export function withOlder<T extends Timed>(list: readonly T[], older: readonly T[]): T[] {
  const have = new Set(list.map((row) => row.id));
  return [...list, ...older.filter((row) => !have.has(row.id))].sort(newestFirst);
}

/**
 * Buffers changes and hands them on together: the first after a quiet spell on the next
 * frame, then at most every FLUSH_MS. Answers the function that takes one change.
 */
export function useBatched<T extends Timed>(apply: (changes: T[]) => void): (change: T) => void {
  const pending = useRef(new Map<string, T>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const last = useRef(0);
  const applyRef = useRef(apply);
  applyRef.current = apply;
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback((change: T) => {
    pending.current.set(change.id, change);
    if (timer.current) return;
    const wait = Math.max(16, last.current + FLUSH_MS - performance.now());
    timer.current = setTimeout(() => {
      timer.current = undefined;
      last.current = performance.now();
      const changes = [...pending.current.values()];
      pending.current.clear();
      applyRef.current(changes);
    }, wait);
  }, []);
}
