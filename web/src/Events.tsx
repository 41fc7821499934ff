// The Events screen: each published event, newest first, filtered by what the address
// says (type, entity, dates), with the deliveries it made; open one to read its data.
import { useEffect, useState } from 'react';
import { gql } from './api.ts';
import { graphql, type ResultOf } from './graphql.ts';
import { deliveriesHref } from './DeliveryFilters.tsx';
import { go } from './routing.ts';
import { EventTypeSelect } from './EventTypeSelect.tsx';
import { fromLocalInput, localInput, time, ZONE } from './format.ts';
import { useLoad } from './hooks.ts';
import { Drawer, ErrorBanner, Json, StatusBadge } from './ui.tsx';

const PAGE = 50;
const EVENT = graphql(`
  fragment EventRow on Event { id type topic action entityId occurredAt createdAt actor clientId instances(first: 20) { id status attempts webhook { id label } } }
`);
type EventRow = ResultOf<typeof EVENT>;
const EVENTS = graphql(
  `query($first: Int!, $filter: EventFilter, $after: String) { events(first: $first, after: $after, filter: $filter) { edges { node { ...EventRow } } pageInfo { endCursor hasNextPage } } }`,
  [EVENT],
);
const ONE = graphql(`query($id: ID!) { event(id: $id) { ...EventRow data previous changedFields correlationId } }`, [EVENT]);

interface Filters {
  type: string;
  entity: string;
  since: string;
  until: string;
}
const KEYS = ['type', 'entity', 'since', 'until'] as const;

function href(f: Partial<Filters>, open?: string): string {
  const query = new URLSearchParams();
  for (const k of KEYS) if (f[k]) query.set(k, f[k]!);
  if (open) query.set('event', open);
  return `#/events?${query}`;
}

export function Events({ query }: { query: URLSearchParams }) {
  const filters: Filters = { type: query.get('type') ?? '', entity: query.get('entity') ?? '', since: query.get('since') ?? '', until: query.get('until') ?? '' };
  const open = query.get('event') ?? undefined;
  const [rows, setRows] = useState<EventRow[] | null>(null);
  const [after, setAfter] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [entity, setEntity] = useState(filters.entity);
  const key = JSON.stringify(filters);
  const page = async (cursor: string | null) => {
    const [topic, action] = filters.type ? filters.type.split('.') : [];
    const filter = { topic: topic || undefined, action: action || undefined, entityId: filters.entity || undefined, since: filters.since || undefined, until: filters.until || undefined };
    const d = await gql(EVENTS, { first: PAGE, filter, after: cursor });
    setAfter(d.events.pageInfo.hasNextPage ? d.events.pageInfo.endCursor : null);
    return d.events.edges.map((e) => e.node);
  };
  const load = () => page(null).then((r) => (setRows(r), setError(undefined)), setError);
  useEffect(() => {
    setRows(null);
    setEntity(filters.entity);
    load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const set = (changes: Partial<Filters>) => go(href({ ...filters, ...changes }));

  return (
    <section aria-labelledby="events-title">
      <div className="toolbar">
        <h1 id="events-title">Events</h1>
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      <form
        className="filters"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          set({ entity: entity.trim() });
        }}
      >
        <EventTypeSelect value={filters.type} onChange={(type) => set({ type })} />
        <label>
          Entity id <input value={entity} size={12} onChange={(e) => setEntity(e.target.value)} />
        </label>
        <label>
          Published from <input type="datetime-local" aria-label="Published from" value={localInput(filters.since)} onChange={(e) => set({ since: fromLocalInput(e.target.value) })} />
        </label>
        <label>
          to <input type="datetime-local" aria-label="Published before" value={localInput(filters.until)} onChange={(e) => set({ until: fromLocalInput(e.target.value) })} />
          <span className="muted"> ({ZONE})</span>
        </label>
        <button type="submit">Apply</button>
        {Object.values(filters).some(Boolean) && (
          <a className="button" href="#/events">
            Clear filters
          </a>
        )}
      </form>
      <ErrorBanner error={error} />
      {rows && rows.length === 0 && <p className="empty">No events {Object.values(filters).some(Boolean) ? 'match these filters' : 'yet'}.</p>}
      {rows && rows.length > 0 && (
        <table className="grid" aria-label="Events">
          <thead>
            <tr>
              <th>Published</th>
              <th>Event</th>
              <th>Deliveries</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} data-event={row.id} aria-selected={row.id === open}>
                <td data-label="Published">{time(row.createdAt)}</td>
                <td data-label="Event">
                  <a href={href(filters, row.id)}>{row.type}</a> <span className="muted">#{row.entityId}</span>
                </td>
                <td data-label="Deliveries">
                  {row.instances.length === 0 && <span className="muted">none: no webhook matched</span>}
                  {row.instances.map((i) => (
                    <a key={i.id} className="delivery-chip" href={deliveriesHref({ event: row.id }, i.id)} title={`${i.webhook.label}: ${i.status}, ${i.attempts} attempts`}>
                      {i.webhook.label} <StatusBadge status={i.status} />
                    </a>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {after && (
        <button type="button" className="load-more" onClick={() => page(after).then((r) => setRows((old) => [...(old ?? []), ...r]), setError)}>
          Load older events
        </button>
      )}
      {open && <EventDetail id={open} onClose={() => go(href(filters))} />}
    </section>
  );
}

function EventDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const { data, error } = useLoad(() => gql(ONE, { id }).then((d) => d.event), [id]);
  return (
    <Drawer label="Event detail" title="Event" focusKey={id} onClose={onClose}>
      <ErrorBanner error={error} />
      {data && (
        <>
          <p>
            <strong>{data.type}</strong> #{data.entityId}
          </p>
          <p className="muted">
            Occurred {time(data.occurredAt)} · published {time(data.createdAt)}
            {byActor(data.actor)}
          </p>
          <h3>Data</h3>
          <Json value={data.data} />
          {data.previous && (
            <>
              <h3>Before</h3>
              <Json value={data.previous} />
            </>
          )}
          <h3>Deliveries</h3>
          {data.instances.length === 0 && <p className="muted">No webhook matched it.</p>}
          <ul>
            {data.instances.map((i) => (
              <li key={i.id}>
                <a href={deliveriesHref({ event: id }, i.id)}>{i.webhook.label}</a> <StatusBadge status={i.status} /> <span className="muted">{i.attempts} attempts</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Drawer>
  );
}

/** Event.actor (JSON: `{ type, id }` as published) as a person reads it. */
function byActor(actor: unknown): string {
  const { type, id } = (actor ?? {}) as { type?: string; id?: string | null };
  return type ? ` · by ${type}${id ? ` ${id}` : ''}` : '';
}
