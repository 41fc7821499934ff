// The instances grid: every delivery with its status, live; open one to see the
// request and every attempt; re-trigger one (also by right-click) or all failed.
import { useEffect, useRef, useState } from 'react';
import { gql, subscribe } from './api.ts';
import { go } from './routing.ts';
import { Confirm, ErrorBanner, HeaderTable, Json, StatusBadge, time, useLoad } from './ui.tsx';

const PAGE = 50;
const STATUSES = ['PENDING', 'SENDING', 'RETRYING', 'COMPLETED', 'FAILED', 'CANCELLED'];
const ROW = `id status attempts held entityId createdAt updatedAt nextAttemptAt lastStatusCode lastMessage lastErrorKind lastDurationMs webhook { id label } event { type }`;

interface Row {
  id: string;
  status: string;
  attempts: number;
  held: boolean;
  entityId: string;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastMessage: string | null;
  lastErrorKind: string | null;
  lastDurationMs: number | null;
  webhook: { id: string; label: string };
  event: { type: string };
}

function href(webhookId: string, instance?: string) {
  const query = new URLSearchParams();
  if (webhookId) query.set('webhook', webhookId);
  if (instance) query.set('instance', instance);
  return `#/deliveries?${query}`;
}

export function Deliveries({ webhookId, open }: { webhookId: string; open?: string }) {
  const [status, setStatus] = useState('');
  const webhooks = useLoad<{ id: string; label: string }[]>(() => gql(`{ webhooks(first: 200, filter: { includeDeleted: true }) { edges { node { id label } } } }`).then((d) => d.webhooks.edges.map((e: any) => e.node as { id: string; label: string })), []);
  const filter = { webhookId: webhookId || undefined, statuses: status ? [status] : undefined };
  const [older, setOlder] = useState<{ cursor: string | null; more: boolean }>({ cursor: null, more: false });
  const page = async (after: string | null) => {
    const d = await gql(`query($filter: InstanceFilter, $after: String) { instances(first: ${PAGE}, after: $after, filter: $filter) { edges { node { ${ROW} } } pageInfo { endCursor hasNextPage } } }`, { filter, after });
    setOlder({ cursor: d.instances.pageInfo.endCursor, more: d.instances.pageInfo.hasNextPage });
    return d.instances.edges.map((e: any) => e.node as Row) as Row[];
  };
  const rows = useLoad<Row[]>(() => page(null), [webhookId, status]);
  const loadOlder = async () => {
    try {
      const next = await page(older.cursor);
      rows.setData((list) => [...(list ?? []), ...next.filter((r) => !list?.some((x) => x.id === r.id))]);
    } catch (err) {
      setActionError(err);
    }
  };
  const [live, setLive] = useState<'connecting' | 'live' | 'error'>('connecting');
  const [menu, setMenu] = useState<{ row: Row; x: number; y: number } | null>(null);
  const [retriggerAll, setRetriggerAll] = useState(false);
  const [message, setMessage] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const [detailVersion, setDetailVersion] = useState(0);
  const openRef = useRef(open);
  openRef.current = open;

  // Live: every status change of the shown deliveries, from any Herald process.
  useEffect(() => {
    setLive('connecting');
    const off = subscribe<{ instanceUpdated: Row }>(
      `subscription($webhookId: ID, $statuses: [InstanceStatus!]) { instanceUpdated(webhookId: $webhookId, statuses: $statuses) { ${ROW} } }`,
      { webhookId: webhookId || null, statuses: status ? [status] : null },
      ({ instanceUpdated: row }) => {
        setLive('live');
        rows.setData((list) => {
          const others = (list ?? []).filter((r) => r.id !== row.id);
          return [row, ...others].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        });
        if (row.id === openRef.current) setDetailVersion((v) => v + 1);
      },
      {
        onError: () => setLive('error'),
        onGap: () => {
          setLive('live');
          rows.reload();
          setDetailVersion((v) => v + 1);
        },
      },
    );
    // The subscription says nothing until something changes: call it live once the socket is up.
    const timer = setTimeout(() => setLive((s) => (s === 'connecting' ? 'live' : s)), 300);
    return () => {
      clearTimeout(timer);
      off();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [webhookId, status]);

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

  return (
    <section aria-labelledby="deliveries-title" className={open ? 'with-detail' : undefined}>
      <div className="toolbar">
        <h1 id="deliveries-title">Deliveries</h1>
        <span className={`live ${live}`} aria-live="polite">
          {live === 'live' ? '● live' : live === 'error' ? 'reconnecting…' : 'connecting…'}
        </span>
      </div>
      <div className="filters">
        <label>
          Webhook{' '}
          <select aria-label="Filter by webhook" value={webhookId} onChange={(e) => go(href(e.target.value))}>
            <option value="">All webhooks</option>
            {(webhooks.data ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select aria-label="Filter by status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={rows.reload}>
          Refresh
        </button>
        <button type="button" disabled={!webhookId} title={webhookId ? undefined : 'Choose a webhook first'} onClick={() => setRetriggerAll(true)}>
          Re-trigger all failed
        </button>
      </div>
      <ErrorBanner error={rows.error ?? actionError} />
      {message && (
        <div className="banner ok" role="status">
          {message}
        </div>
      )}
      <div className="split">
        <div className="grid-wrap">
          {rows.data && rows.data.length === 0 && <p className="empty">No deliveries yet.</p>}
          {rows.data && rows.data.length > 0 && (
            <table className="grid instances" aria-label="Deliveries">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Webhook</th>
                  <th>Event</th>
                  <th>Status</th>
                  <th>Attempts</th>
                  <th>Response</th>
                </tr>
              </thead>
              <tbody>
                {rows.data.map((row) => (
                  <tr
                    key={row.id}
                    data-instance={row.id}
                    data-status={row.status}
                    tabIndex={0}
                    aria-selected={row.id === open}
                    onClick={() => go(href(webhookId, row.id))}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter') go(href(webhookId, row.id));
                    }}
                    onContextMenu={(e) => {
                      e.preventDefault();
                      const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
                      setMenu({ row, x: e.clientX || box.left + 20, y: e.clientY || box.bottom });
                    }}
                  >
                    <td data-label="Time">{time(row.createdAt)}</td>
                    <td data-label="Webhook">{row.webhook.label}</td>
                    <td data-label="Event">
                      {row.event.type} <span className="muted">#{row.entityId}</span>
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={row.status} />
                      {row.held && <span className="muted"> held</span>}
                    </td>
                    <td data-label="Attempts">{row.attempts}</td>
                    <td data-label="Response">
                      {row.lastStatusCode ?? row.lastErrorKind ?? ''} <span className="muted">{row.lastStatusCode && row.lastMessage?.startsWith(String(row.lastStatusCode)) ? row.lastMessage.slice(String(row.lastStatusCode).length) : (row.lastMessage ?? '')}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {older.more && (
            <button type="button" className="load-more" onClick={loadOlder}>
              Load older deliveries
            </button>
          )}
        </div>
        {open && <Detail id={open} version={detailVersion} onClose={() => go(href(webhookId))} act={act} />}
      </div>
      {menu && <ContextMenu {...menu} onClose={() => setMenu(null)} onOpen={() => (setMenu(null), go(href(webhookId, menu.row.id)))} act={act} />}
      <Confirm
        open={retriggerAll}
        title="Re-trigger all failed"
        message={`Send every FAILED delivery of ${webhooks.data?.find((w) => w.id === webhookId)?.label ?? 'this webhook'} again now?`}
        action="Re-trigger"
        onClose={() => setRetriggerAll(false)}
        onConfirm={async () => {
          const d = await gql(`mutation($webhookId: ID!) { retriggerInstances(filter: { webhookId: $webhookId }) }`, { webhookId });
          setMessage(`Re-triggered ${d.retriggerInstances} failed ${d.retriggerInstances === 1 ? 'delivery' : 'deliveries'}.`);
        }}
      />
    </section>
  );
}

function ContextMenu({ row, x, y, onClose, onOpen, act }: { row: Row; x: number; y: number; onClose: () => void; onOpen: () => void; act: (what: 'retrigger' | 'cancel', row: Row) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector('button')?.focus();
    const away = (e: MouseEvent) => !ref.current?.contains(e.target as Node) && onClose();
    const escape = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', escape);
    return () => {
      document.removeEventListener('mousedown', away);
      document.removeEventListener('keydown', escape);
    };
  }, [onClose]);
  return (
    <div ref={ref} className="menu" role="menu" style={{ left: Math.min(x, window.innerWidth - 180), top: Math.min(y, window.innerHeight - 140) }}>
      <button type="button" role="menuitem" onClick={onOpen}>
        Open
      </button>
      <button type="button" role="menuitem" onClick={() => act('retrigger', row)}>
        Re-trigger
      </button>
      <button type="button" role="menuitem" disabled={!['PENDING', 'RETRYING'].includes(row.status)} onClick={() => act('cancel', row)}>
        Cancel
      </button>
    </div>
  );
}

const DETAIL = `query($id: ID!) { instance(id: $id) {
  ${ROW} payload request
  events { id type entityId occurredAt }
  attemptLog { number trigger startedAt durationMs statusCode errorKind message location responseBody }
} }`;

function Detail({ id, version, onClose, act }: { id: string; version: number; onClose: () => void; act: (what: 'retrigger' | 'cancel', row: Row) => void }) {
  const { data, error } = useLoad(() => gql(DETAIL, { id }).then((d) => d.instance), [id, version]);
  return (
    <aside className="detail" aria-label="Delivery detail">
      <div className="toolbar">
        <h2>Delivery</h2>
        <button type="button" onClick={onClose} aria-label="Close detail">
          ✕
        </button>
      </div>
      <ErrorBanner error={error} />
      {data && (
        <>
          <p>
            <StatusBadge status={data.status} /> {data.webhook.label} · {data.event.type} #{data.entityId}
          </p>
          {data.nextAttemptAt && ['PENDING', 'RETRYING'].includes(data.status) && <p className="muted">Next attempt {time(data.nextAttemptAt)}</p>}
          <div className="actions">
            <button type="button" className="primary" onClick={() => act('retrigger', data)}>
              Re-trigger
            </button>
            {['PENDING', 'RETRYING'].includes(data.status) && (
              <button type="button" onClick={() => act('cancel', data)}>
                Cancel
              </button>
            )}
          </div>
          <h3>Request sent</h3>
          {data.request ? (
            <>
              <p className="mono">
                {data.request.method} {data.request.url}
              </p>
              <HeaderTable headers={data.request.headers} />
              <Json value={data.request.body} />
            </>
          ) : (
            <>
              <p className="muted">Not sent yet. It will send:</p>
              <Json value={data.payload} />
            </>
          )}
          <h3>Attempts</h3>
          {data.attemptLog.length === 0 && <p className="muted">None yet.</p>}
          <ol className="attempts">
            {data.attemptLog.map((a: any) => (
              <li key={a.number}>
                <strong>#{a.number}</strong> {time(a.startedAt)} · {a.trigger} · {a.statusCode ?? a.errorKind} · {a.durationMs} ms
                {a.message && <div>{a.message}</div>}
                {a.location && <div className="muted">Location: {a.location}</div>}
                {a.responseBody && <Json value={a.responseBody} />}
              </li>
            ))}
          </ol>
          {data.events.length > 1 && (
            <>
              <h3>Events in this batch</h3>
              <ul>
                {data.events.map((e: any) => (
                  <li key={e.id}>
                    {e.type} #{e.entityId} · {time(e.occurredAt)}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </aside>
  );
}
