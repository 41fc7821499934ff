// The instances grid: every delivery with its status, live, filtered by what the
// address says (webhook, status, dates, entity, event); open one beside the list to see
// the request and every attempt; re-trigger one (also by right-click or the menu key)
// or in bulk. Under a burst, changes are applied a few times a second, the list keeps
// its newest MAX_ROWS, and only the rows in view are in the page (a virtual list).
import { useCallback, useEffect, useRef, useState } from 'react';
import { gql } from './api.ts';
import { subscribe } from './live.ts';
import { DeliveryDetail } from './DeliveryDetail.tsx';
import { apiFilter, deliveriesHref, FilterBar, filtersOf, shown } from './DeliveryFilters.tsx';
import { DeliveryRows, RowMenu } from './DeliveryRows.tsx';
import { ROW, type Row } from './delivery.ts';
import { graphql } from './graphql.ts';
import { applyChanges, MAX_ROWS, useBatched, withOlder } from './liveRows.ts';
import { go } from './routing.ts';
import { time } from './format.ts';
import { useConnection, useLoad } from './hooks.ts';
import { Confirm, ErrorBanner, LiveBadge, StaleNotice } from './ui.tsx';
import { useCan, useNotAllowed } from './viewer.ts';

const PAGE = 50;
const WEBHOOKS = graphql(`{ webhooks(first: 200, filter: { includeDeleted: true }) { edges { node { id label } } } }`);
const INSTANCES = graphql(
  `query($first: Int!, $filter: InstanceFilter, $after: String) { instances(first: $first, after: $after, filter: $filter) { edges { node { ...Row } } pageInfo { endCursor hasNextPage } } }`,
  [ROW],
);
const UPDATED = graphql(`subscription($webhookId: ID, $statuses: [InstanceStatus!]) { instanceUpdated(webhookId: $webhookId, statuses: $statuses) { ...Row } }`, [ROW]);
const RETRIGGER = graphql(`mutation($id: ID!) { retriggerInstance(id: $id) { id } }`);
const CANCEL = graphql(`mutation($id: ID!) { cancelInstance(id: $id) { id } }`);
const RETRIGGER_MANY = graphql(`mutation($filter: RetriggerFilter!, $dryRun: Boolean) { retriggerInstances(filter: $filter, dryRun: $dryRun) }`);

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
  const webhooks = useLoad(() => gql(WEBHOOKS).then((d) => d.webhooks.edges.map((e) => e.node)), []);
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
      const d = await gql(INSTANCES, { first: PAGE, filter, after });
      const rows = d.instances.edges.map((e) => e.node);
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
    return subscribe(
      UPDATED,
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
      if (what === 'retrigger') await gql(RETRIGGER, { id: row.id });
      else await gql(CANCEL, { id: row.id });
      setMessage(what === 'retrigger' ? 'Re-triggered: it is sent again now.' : 'Cancelled.');
    } catch (err) {
      setActionError(err);
    }
  };
  const bulkFilter = () => ({ webhookId: filters.webhook, statuses: [filters.status || ('FAILED' as const)], eventType: filters.type || undefined, since: filters.since || undefined, until: filters.until || undefined });
  const countBulk = async () => {
    setActionError(undefined);
    try {
      const d = await gql(RETRIGGER_MANY, { filter: bulkFilter(), dryRun: true });
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
          const d = await gql(RETRIGGER_MANY, { filter: bulkFilter() });
          setMessage(`Re-triggered ${d.retriggerInstances} ${d.retriggerInstances === 1 ? 'delivery' : 'deliveries'}.`);
        }}
      />
    </section>
  );
}
