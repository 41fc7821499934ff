import { useEffect, useState } from 'react';
import type { Row } from './delivery.ts';
import { go } from './routing.ts';
import { EventTypeSelect } from './EventTypeSelect.tsx';
import { fromLocalInput, localInput, ZONE } from './format.ts';

/** The deliveries grid's filters: in the address, as the API's filter, on a live row, and the bar that sets them. */

type Status = Row['status'];
const STATUSES: Status[] = ['PENDING', 'SENDING', 'RETRYING', 'COMPLETED', 'FAILED', 'PAUSED', 'CANCELLED'];
const isStatus = (text: string): text is Status => (STATUSES as string[]).includes(text);
/** What the grid shows, as the address says it: `#/deliveries?webhook=…&status=…&since=…&until=…&type=…&entity=…&event=…&instance=…`. */
export interface Filters {
  webhook: string;
  /** '' for every status (also when the address names none Herald has). */
  status: Status | '';
  since: string;
  until: string;
  type: string;
  entity: string;
  event: string;
}
const FILTER_KEYS = ['webhook', 'status', 'since', 'until', 'type', 'entity', 'event'] as const;

export function filtersOf(query: URLSearchParams): Filters {
  const text = (k: (typeof FILTER_KEYS)[number]) => query.get(k) ?? '';
  const status = text('status');
  return { webhook: text('webhook'), status: isStatus(status) ? status : '', since: text('since'), until: text('until'), type: text('type'), entity: text('entity'), event: text('event') };
}

export function deliveriesHref(filters: Partial<Filters>, instance?: string): string {
  const query = new URLSearchParams();
  for (const k of FILTER_KEYS) if (filters[k]) query.set(k, filters[k]!);
  if (instance) query.set('instance', instance);
  return `#/deliveries?${query}`;
}

/** The API's InstanceFilter for these filters. */
export function apiFilter(f: Filters) {
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
export function shown(row: Row, f: Filters): boolean {
  if (f.type && row.event.type !== f.type) return false;
  if (f.entity && row.entityId !== f.entity) return false;
  if (f.event && row.event.id !== f.event) return false;
  if (f.since && row.createdAt < new Date(f.since).toISOString()) return false;
  if (f.until && row.createdAt >= new Date(f.until).toISOString()) return false;
  return true;
}

export function FilterBar({ filters, webhooks }: { filters: Filters; webhooks: Array<{ id: string; label: string }> }) {
  const [text, setText] = useState({ entity: filters.entity, event: filters.event, delivery: '' });
  useEffect(() => setText((t) => ({ ...t, entity: filters.entity, event: filters.event })), [filters.entity, filters.event]);
  const set = (changes: Partial<Filters>) => go(deliveriesHref({ ...filters, ...changes }));
  const filtered = Object.values(filters).some(Boolean);
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
        <select value={filters.status} onChange={(e) => set({ status: isStatus(e.target.value) ? e.target.value : '' })}>
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
      {filtered && (
        <a className="button" href="#/deliveries">
          Clear filters
        </a>
      )}
    </form>
  );
}
