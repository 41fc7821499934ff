import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import type { Row } from './delivery.ts';
import { time } from './format.ts';
import { StatusBadge } from './ui.tsx';

/** The deliveries grid's rows (a virtual list, keyboard included) and a row's menu. */

/** Row height before a row is measured (a desktop row; phone cards are measured as they show). */
const ROW_PX = 41;

export function DeliveryRows({ rows, open, stale, onOpen, onMenu }: { rows: Row[]; open?: string; stale: boolean; onOpen: (row: Row) => void; onMenu: (row: Row, x: number, y: number) => void }) {
  const body = useRef<HTMLTableSectionElement>(null);
  const [offset, setOffset] = useState(0);
  useLayoutEffect(() => {
    const measure = () => setOffset((body.current?.getBoundingClientRect().top ?? 0) + window.scrollY);
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, []);
  const virtual = useWindowVirtualizer({ count: rows.length, estimateSize: () => ROW_PX, overscan: 10, scrollMargin: offset, getItemKey: (i) => rows[i]!.id });
  const items = virtual.getVirtualItems();
  const before = items.length ? items[0]!.start - offset : 0;
  const after = items.length ? virtual.getTotalSize() - (items.at(-1)!.end - offset) : 0;
  // The row a detail was opened from stays in view beside it (the list narrows, its rows grow taller).
  useEffect(() => {
    if (!open) return;
    const frame = requestAnimationFrame(() => {
      const shownRow = body.current?.querySelector<HTMLElement>(`tr[data-instance="${open}"]`);
      if (shownRow) shownRow.scrollIntoView({ block: 'nearest' });
      else if (rows.some((r) => r.id === open)) virtual.scrollToIndex(rows.findIndex((r) => r.id === open), { align: 'center' });
    });
    return () => cancelAnimationFrame(frame);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);
  // A row to focus once it is drawn (the list may have to scroll to it, and draw it, first).
  const wantFocus = useRef<number | undefined>(undefined);
  const focusWanted = () => {
    const index = wantFocus.current;
    const shown = index === undefined ? null : body.current?.querySelector<HTMLElement>(`tr[data-index="${index}"]`);
    if (!shown) return;
    wantFocus.current = undefined;
    shown.focus();
  };
  useEffect(focusWanted);
  const focusRow = (index: number) => {
    if (index < 0 || index >= rows.length) return;
    wantFocus.current = index;
    virtual.scrollToIndex(index, { align: 'auto' });
    focusWanted();
  };
  return (
    <table className={`grid instances${stale ? ' stale' : ''}`} aria-label="Deliveries" aria-rowcount={rows.length + 1}>
      <thead>
        <tr aria-rowindex={1}>
          <th>Time</th>
          <th>Webhook</th>
          <th>Event</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Response</th>
        </tr>
      </thead>
      <tbody ref={body}>
        {before > 0 && (
          <tr className="spacer" aria-hidden="true" style={{ height: before }}>
            <td colSpan={6} />
          </tr>
        )}
        {items.map((item) => {
          const row = rows[item.index]!;
          return (
            <tr
              key={item.key}
              ref={virtual.measureElement}
              data-index={item.index}
              data-instance={row.id}
              data-status={row.status}
              aria-rowindex={item.index + 2}
              tabIndex={0}
              aria-selected={row.id === open}
              onClick={() => onOpen(row)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') onOpen(row);
                else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                  e.preventDefault();
                  focusRow(item.index + (e.key === 'ArrowDown' ? 1 : -1));
                } else if (e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
                  e.preventDefault();
                  const box = e.currentTarget.getBoundingClientRect();
                  onMenu(row, box.left + 20, box.bottom);
                }
              }}
              onContextMenu={(e) => {
                e.preventDefault();
                const box = e.currentTarget.getBoundingClientRect();
                onMenu(row, e.clientX || box.left + 20, e.clientY || box.bottom);
              }}
            >
              <td data-label="Time">{time(row.createdAt)}</td>
              <td data-label="Webhook">{row.webhook.label}</td>
              <td data-label="Event">
                {row.event.type} <span className="muted">#{row.entityId}</span>
              </td>
              <td data-label="Status">
                <StatusBadge status={row.status} />
                {row.held && <span className="muted"> waiting its turn</span>}
              </td>
              <td data-label="Attempts">{row.attempts}</td>
              <td data-label="Response">
                {row.lastStatusCode ?? row.lastErrorKind ?? ''} <span className="muted">{row.lastStatusCode && row.lastMessage?.startsWith(String(row.lastStatusCode)) ? row.lastMessage.slice(String(row.lastStatusCode).length) : (row.lastMessage ?? '')}</span>
              </td>
            </tr>
          );
        })}
        {after > 0 && (
          <tr className="spacer" aria-hidden="true" style={{ height: after }}>
            <td colSpan={6} />
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** The row's menu: arrow keys move between its items, Escape closes it and returns to the row. */
export function RowMenu({ row, x, y, mayOperate, onClose, onOpen, act }: { row: Row; x: number; y: number; mayOperate: boolean; onClose: () => void; onOpen: () => void; act: (what: 'retrigger' | 'cancel', row: Row) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector('button')?.focus();
    const away = (e: MouseEvent) => !ref.current?.contains(e.target as Node) && onClose();
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [onClose]);
  const move = (e: React.KeyboardEvent) => {
    const items = [...(ref.current?.querySelectorAll<HTMLButtonElement>('button:not(:disabled)') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[e.key];
    if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      onClose();
    } else if (to !== undefined) {
      e.preventDefault();
      items[(to + items.length) % items.length]?.focus();
    }
  };
  return (
    <div ref={ref} className="menu" role="menu" aria-label={`Delivery ${row.event.type} #${row.entityId}`} onKeyDown={move} style={{ left: Math.min(x, window.innerWidth - 180), top: Math.min(y, window.innerHeight - 140) }}>
      <button type="button" role="menuitem" onClick={onOpen}>
        Open
      </button>
      {mayOperate && (
        <>
          <button type="button" role="menuitem" onClick={() => act('retrigger', row)}>
            Re-trigger
          </button>
          <button type="button" role="menuitem" disabled={!['PENDING', 'RETRYING', 'PAUSED'].includes(row.status)} onClick={() => act('cancel', row)}>
            Cancel
          </button>
        </>
      )}
    </div>
  );
}
