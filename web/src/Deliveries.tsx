// The instances grid: every delivery with its status, live, filtered by what the
// address says (webhook, status, dates, entity, event); open one beside the list to see
// the request and every attempt; re-trigger one (also by right-click or the menu key)
// or in bulk. Under a burst, changes are applied a few times a second, the list keeps
// its newest MAX_ROWS, and only the rows in view are in the page (a virtual list).
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { gql, subscribe } from './api.ts';
import { DeliveryDetail } from './DeliveryDetail.tsx';
import { ROW, type Row } from './delivery.ts';
import { applyChanges, MAX_ROWS, useBatched, withOlder } from './liveRows.ts';
import { go } from './routing.ts';
import { Confirm, ErrorBanner, EventTypeSelect, fromLocalInput, LiveBadge, localInput, StaleNotice, StatusBadge, time, useConnection, useLoad, ZONE } from './ui.tsx';
import { useCan, useNotAllowed } from './viewer.ts';

const PAGE = 50;
const STATUSES = ['PENDING', 'SENDING', 'RETRYING', 'COMPLETED', 'FAILED', 'PAUSED', 'CANCELLED'];
/** What the grid shows, as the address says it: `#/deliveries?webhook=…&status=…&since=…&until=…&type=…&entity=…&event=…&instance=…`. */
export interface Filters {
  webhook: string;
  status: string;
  since: string;
  until: string;
  type: string;
  entity: string;
  event: string;
}
const FILTER_KEYS = ['webhook', 'status', 'since', 'until', 'type', 'entity', 'event'] as const;

function filtersOf(query: URLSearchParams): Filters {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) ?? ''])) as unknown as Filters;
}

export function deliveriesHref(filters: Partial<Filters>, instance?: string): string {
  const query = new URLSearchParams();
  for (const k of FILTER_KEYS) if (filters[k]) query.set(k, filters[k]!);
  if (instance) query.set('instance', instance);
  return `#/deliveries?${query}`;
}

/** The API's InstanceFilter for these filters. */
function apiFilter(f: Filters) {
  return {
    webhookId: f.webhook || undefined,
    statuses: f.status ? [f.status] : undefined,
    since: f.since || undefined,
    until: f.until || undefined,
    eventType: f.type || undefined,
    entityId: f.entity || undefined,
    eventId: f.event || undefined,
  };
}

/** Whether a changed delivery belongs in the list (the subscription filters by webhook and status only). */
function shown(row: Row, f: Filters): boolean {
  if (f.type && row.event.type !== f.type) return false;
  if (f.entity && row.entityId !== f.entity) return false;
  if (f.event && row.event.id !== f.event) return false;
  if (f.since && row.createdAt < new Date(f.since).toISOString()) return false;
  if (f.until && row.createdAt >= new Date(f.until).toISOString()) return false;
  return true;
}

/** Where older rows come from: the last page's cursor, or (once the live list cut its oldest) before the oldest moment kept. */
type Older = { after: string } | { until: string } | null;

interface Grid {
  rows: Row[];
  older: Older;
}

export function Deliveries({ query }: { query: URLSearchParams }) {
  const filters = filtersOf(query);
  const open = query.get('instance') ?? undefined;
  const key = JSON.stringify(filters);
  const mayOperate = useCan('OPERATE');
  const notAllowed = useNotAllowed('OPERATE', 're-trigger or cancel deliveries');
  const webhooks = useLoad<{ id: string; label: string }[]>(() => gql(`{ webhooks(first: 200, filter: { includeDeleted: true }) { edges { node { id label } } } }`).then((d) => d.webhooks.edges.map((e: any) => e.node as { id: string; label: string })), []);
  const [grid, setGrid] = useState<Grid | null>(null);
  const [loadError, setLoadError] = useState<unknown>();
  const [actionError, setActionError] = useState<unknown>();
  const [message, setMessage] = useState<string>();
  const [menu, setMenu] = useState<{ row: Row; x: number; y: number } | null>(null);
  const [bulk, setBulk] = useState<{ count: number } | null>(null);
  const [detailVersion, setDetailVersion] = useState(0);
  const connection = useConnection();
  const openRef = useRef(open);
  openRef.current = open;
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  const page = useCallback(
    async (older: Older) => {
      const f = filtersRef.current;
      const filter = { ...apiFilter(f), ...(older && 'until' in older ? { until: older.until } : {}) };
      const after = older && 'after' in older ? older.after : null;
      const d = await gql(`query($filter: InstanceFilter, $after: String) { instances(first: ${PAGE}, after: $after, filter: $filter) { edges { node { ${ROW} } } pageInfo { endCursor hasNextPage } } }`, { filter, after });
      const rows = d.instances.edges.map((e: any) => e.node as Row) as Row[];
      return { rows, older: d.instances.pageInfo.hasNextPage ? ({ after: d.instances.pageInfo.endCursor } as Older) : null };
    },
    [],
  );
  const reload = useCallback(() => {
    page(null).then(
      (first) => (setGrid(first), setLoadError(undefined)),
      (err) => setLoadError(err),
    );
  }, [page]);
  useEffect(() => {
    setGrid(null);
    reload();
  }, [key, reload]);

  const loadOlder = async () => {
    if (!grid?.older) return;
    try {
      const next = await page(grid.older);
      setGrid((g) => g && { rows: withOlder(g.rows, next.rows), older: next.older });
    } catch (err) {
      setActionError(err);
    }
  };

  // Live: every status change of the shown deliveries, from any Herald process, applied a few times a second.
  const apply = useBatched<Row>((changes) => {
    const wanted = changes.filter((row) => shown(row, filtersRef.current));
    setGrid((g) => {
      if (!g) return g;
      const { rows, cut } = applyChanges(g.rows, wanted);
      return { rows, older: cut ? { until: rows.at(-1)!.createdAt } : g.older };
    });
    if (changes.some((row) => row.id === openRef.current)) setDetailVersion((v) => v + 1);
  });
  useEffect(() => {
    return subscribe<{ instanceUpdated: Row }>(
      `subscription($webhookId: ID, $statuses: [InstanceStatus!]) { instanceUpdated(webhookId: $webhookId, statuses: $statuses) { ${ROW} } }`,
      { webhookId: filters.webhook || null, statuses: filters.status ? [filters.status] : null },
      ({ instanceUpdated: row }) => apply(row),
      {
        onGap: () => {
          reload();
          setDetailVersion((v) => v + 1);
        },
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filters.webhook, filters.status]);

  const act = async (what: 'retrigger' | 'cancel', row: Row) => {
    setMenu(null);
    setActionError(undefined);
    try {
      const mutation = what === 'retrigger' ? 'retriggerInstance' : 'cancelInstance';
      await gql(`mutation($id: ID!) { ${mutation}(id: $id) { id } }`, { id: row.id });
      setMessage(what === 'retrigger' ? 'Re-triggered: it is sent again now.' : 'Cancelled.');
    } catch (err) {
      setActionError(err);
    }
  };
  const bulkFilter = () => ({ webhookId: filters.webhook, statuses: [filters.status || 'FAILED'], eventType: filters.type || undefined, since: filters.since || undefined, until: filters.until || undefined });
  const countBulk = async () => {
    setActionError(undefined);
    try {
      const d = await gql(`mutation($filter: RetriggerFilter!) { retriggerInstances(filter: $filter, dryRun: true) }`, { filter: bulkFilter() });
      setBulk({ count: d.retriggerInstances });
    } catch (err) {
      setActionError(err);
    }
  };
  const webhookLabel = webhooks.data?.find((w) => w.id === filters.webhook)?.label ?? 'this webhook';
  const closeDetail = () => {
    go(deliveriesHref(filters));
    // Back to the row it was opened from (when it is in view).
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`tr[data-instance="${open}"]`)?.focus());
  };

  return (
    <section aria-labelledby="deliveries-title" className={open ? 'with-drawer' : undefined}>
      <div className="toolbar">
        <h1 id="deliveries-title">Deliveries</h1>
        <LiveBadge connection={connection} />
      </div>
      <FilterBar filters={filters} webhooks={webhooks.data ?? []} />
      <div className="actions">
        <button type="button" onClick={reload}>
          Refresh
        </button>
        {mayOperate && (
          <button type="button" disabled={!filters.webhook} title={filters.webhook ? undefined : 'Choose a webhook first'} onClick={countBulk}>
            Re-trigger {(filters.status || 'FAILED').toLowerCase()}
            {filters.since ? ' since the date chosen' : ''}…
          </button>
        )}
      </div>
      <StaleNotice connection={connection} />
      <ErrorBanner error={loadError ?? actionError} />
      {message && (
        <div className="banner ok" role="status">
          {message}
        </div>
      )}
      {grid && grid.rows.length === 0 && <p className="empty">No deliveries {Object.values(filters).some(Boolean) ? 'match these filters' : 'yet'}.</p>}
      {grid && grid.rows.length > 0 && (
        <DeliveryRows
          rows={grid.rows}
          open={open}
          stale={connection.state === 'reconnecting' || connection.state === 'offline'}
          onOpen={(row) => go(deliveriesHref(filters, row.id))}
          onMenu={(row, x, y) => setMenu({ row, x, y })}
        />
      )}
      {grid && grid.rows.length >= MAX_ROWS && <p className="muted">The newest {grid.rows.length} are shown live; older ones load below.</p>}
      {grid?.older && (
        <button type="button" className="load-more" onClick={loadOlder}>
          Load older deliveries
        </button>
      )}
      {open && <DeliveryDetail id={open} version={detailVersion} onClose={closeDetail} act={act} mayOperate={mayOperate} notAllowed={notAllowed} />}
      {menu && (
        <RowMenu
          {...menu}
          mayOperate={mayOperate}
          onClose={() => {
            const id = menu.row.id;
            setMenu(null);
            document.querySelector<HTMLElement>(`tr[data-instance="${id}"]`)?.focus();
          }}
          onOpen={() => (setMenu(null), go(deliveriesHref(filters, menu.row.id)))}
          act={act}
        />
      )}
      <Confirm
        open={bulk !== null}
        title="Re-trigger deliveries"
        message={
          bulk?.count === 0
            ? `No ${(filters.status || 'FAILED').toLowerCase()} delivery of ${webhookLabel} matches: nothing to send.`
            : `Send ${bulk?.count === 100_000 ? 'the newest 100,000' : bulk?.count} ${(filters.status || 'FAILED').toLowerCase()} ${bulk?.count === 1 ? 'delivery' : 'deliveries'} of ${webhookLabel}${filters.since ? ` created since ${time(filters.since)}` : ''}${filters.until ? ` and before ${time(filters.until)}` : ''} again now?`
        }
        action={bulk?.count ? `Re-trigger ${bulk.count}` : 'Nothing to do'}
        onClose={() => setBulk(null)}
        onConfirm={async () => {
          if (!bulk?.count) return;
          const d = await gql(`mutation($filter: RetriggerFilter!) { retriggerInstances(filter: $filter) }`, { filter: bulkFilter() });
          setMessage(`Re-triggered ${d.retriggerInstances} ${d.retriggerInstances === 1 ? 'delivery' : 'deliveries'}.`);
        }}
      />
    </section>
  );
}


function FilterBar({ filters, webhooks }: { filters: Filters; webhooks: Array<{ id: string; label: string }> }) {
  const [text, setText] = useState({ entity: filters.entity, event: filters.event, delivery: '' });
  useEffect(() => setText((t) => ({ ...t, entity: filters.entity, event: filters.event })), [filters.entity, filters.event]);
  const set = (changes: Partial<Filters>) => go(deliveriesHref({ ...filters, ...changes }));
  const any = Object.values(filters).some(Boolean);
  return (
    <form
      className="filters"
      aria-label="Filter deliveries"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.delivery.trim()) go(deliveriesHref(filters, text.delivery.trim()));
        else set({ entity: text.entity.trim(), event: text.event.trim() });
      }}
    >
      <label>
        Webhook{' '}
        <select value={filters.webhook} onChange={(e) => set({ webhook: e.target.value })}>
          <option value="">All webhooks</option>
          {webhooks.map((w) => (
            <option key={w.id} value={w.id}>
              {w.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Status{' '}
        <select value={filters.status} onChange={(e) => set({ status: e.target.value })}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <EventTypeSelect value={filters.type} onChange={(type) => set({ type })} />
      <label>
        Created from <input type="datetime-local" aria-label="Created from" value={localInput(filters.since)} onChange={(e) => set({ since: fromLocalInput(e.target.value) })} />
      </label>
      <label>
        to <input type="datetime-local" aria-label="Created before" value={localInput(filters.until)} onChange={(e) => set({ until: fromLocalInput(e.target.value) })} />
        <span className="muted"> ({ZONE})</span>
      </label>
      <label>
        Entity id <input value={text.entity} size={12} onChange={(e) => setText({ ...text, entity: e.target.value })} />
      </label>
      <label>
        Event id <input value={text.event} size={12} onChange={(e) => setText({ ...text, event: e.target.value })} />
      </label>
      <label>
        Delivery id <input value={text.delivery} size={12} onChange={(e) => setText({ ...text, delivery: e.target.value })} placeholder="opens it" />
      </label>
      <button type="submit">Apply</button>
      {any && (
        <a className="button" href="#/deliveries">
          Clear filters
        </a>
      )}
    </form>
  );
}

/** Row height before a row is measured (a desktop row; phone cards are measured as they show). */
const ROW_PX = 41;

function DeliveryRows({ rows, open, stale, onOpen, onMenu }: { rows: Row[]; open?: string; stale: boolean; onOpen: (row: Row) => void; onMenu: (row: Row, x: number, y: number) => void }) {
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
function RowMenu({ row, x, y, mayOperate, onClose, onOpen, act }: { row: Row; x: number; y: number; mayOperate: boolean; onClose: () => void; onOpen: () => void; act: (what: 'retrigger' | 'cancel', row: Row) => void }) {
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
