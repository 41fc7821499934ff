import { useEffect, useRef, useState } from 'react';
import { gql } from './api.ts';
import { graphql, type ResultOf } from './graphql.ts';
import { subscribe } from './live.ts';
import { percent, time } from './format.ts';
import { useLoad } from './hooks.ts';
import { Confirm, ErrorBanner } from './ui.tsx';
import { useCan, useNotAllowed } from './viewer.ts';

const WEBHOOKS = graphql(`query Webhooks($filter: WebhookFilter) {
  webhooks(first: 200, filter: $filter) { edges { node {
    id label description url events active state heldDeliveries deactivatedReason
    stats { successRate lastDeliveryAt total }
  } } }
}`);
type Row = ResultOf<typeof WEBHOOKS>['webhooks']['edges'][number]['node'];
const WEBHOOK_UPDATED = graphql(`subscription { webhookUpdated { id } }`);
const FINISHED = graphql(`subscription { instanceUpdated(statuses: [COMPLETED, FAILED, PAUSED]) { id } }`);
const SET_ACTIVE = graphql(`mutation($id: ID!, $active: Boolean!) { setWebhookActive(id: $id, active: $active) { id } }`);
const PAUSE = graphql(`mutation($id: ID!) { pauseWebhook(id: $id) { id } }`);
const RESUME = graphql(`mutation($id: ID!) { resumeWebhook(id: $id) { id } }`);
const DELETE = graphql(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`);
const DISCARD_HELD = graphql(`mutation($id: ID!) { discardHeldDeliveries(webhookId: $id) }`);

export function WebhookList() {
  const [search, setSearch] = useState('');
  const mayManage = useCan('MANAGE');
  const notAllowed = useNotAllowed('MANAGE', 'change webhooks');
  const { data, error, reload, setData } = useLoad(() => gql(WEBHOOKS, { filter: search ? { search } : null }).then((d) => d.webhooks.edges.map((e) => e.node)), [search]);
  const [actionError, setActionError] = useState<unknown>();
  const [deleting, setDeleting] = useState<Row | null>(null);
  const [discarding, setDiscarding] = useState<Row | null>(null);

  // Edits from anywhere, finished deliveries (success rate, last delivery) and held ones refresh the list.
  const pending = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    const soon = () => {
      clearTimeout(pending.current);
      pending.current = setTimeout(reload, 500);
    };
    const offWebhooks = subscribe(WEBHOOK_UPDATED, {}, soon, { onGap: soon });
    const offInstances = subscribe(FINISHED, {}, soon, { onGap: soon });
    return () => {
      clearTimeout(pending.current);
      offWebhooks();
      offInstances();
    };
  }, [reload]);

  /** Shows the change at once, then makes it and reads the list again. */
  const act = async (row: Row, change: Partial<Row>, make: () => Promise<unknown>) => {
    setData((rows) => rows?.map((r) => (r.id === row.id ? { ...r, ...change } : r)));
    try {
      setActionError(undefined);
      await make();
      reload();
    } catch (err) {
      setActionError(err);
      reload();
    }
  };
  const setActive = (row: Row, active: boolean) =>
    act(row, { active, state: active ? 'ACTIVE' : 'DISABLED' }, () => gql(SET_ACTIVE, { id: row.id, active }));
  const pause = (row: Row) => act(row, { active: false, state: 'PAUSED' }, () => gql(PAUSE, { id: row.id }));
  const resume = (row: Row) => act(row, { active: true, state: 'ACTIVE' }, () => gql(RESUME, { id: row.id }));

  return (
    <section aria-labelledby="webhooks-title">
      <div className="toolbar">
        <h1 id="webhooks-title">Webhooks</h1>
        <input type="search" aria-label="Search webhooks" placeholder="Search label or description" value={search} onChange={(e) => setSearch(e.target.value)} />
        {mayManage && (
          <a className="button primary" href="#/webhooks/new">
            New webhook
          </a>
        )}
      </div>
      {notAllowed && <p className="muted">{notAllowed}</p>}
      <ErrorBanner error={error ?? actionError} />
      {data && data.length === 0 && <p className="empty">No webhooks yet. Create one to start delivering events.</p>}
      {data && data.length > 0 && (
        <table className="grid">
          <thead>
            <tr>
              <th>Label</th>
              <th>Events</th>
              <th>URL</th>
              <th>Active</th>
              <th>Success</th>
              <th>Last delivery</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.map((row) => (
              <tr key={row.id} data-webhook={row.label}>
                <td data-label="Label">
                  <a href={`#/webhooks/${row.id}`}>{row.label}</a>
                  {row.description && <div className="muted">{row.description}</div>}
                </td>
                <td data-label="Events">{row.events.join(', ')}</td>
                <td data-label="URL" className="url">
                  {row.url}
                </td>
                <td data-label="Active">
                  {mayManage ? (
                    <label className="switch">
                      <input type="checkbox" checked={row.active} onChange={(e) => setActive(row, e.target.checked)} aria-label={`${row.label} active`} />
                      <span>{row.state === 'ACTIVE' ? 'Active' : row.state === 'PAUSED' ? 'Paused' : 'Off'}</span>
                    </label>
                  ) : (
                    <span>{row.state === 'ACTIVE' ? 'Active' : row.state === 'PAUSED' ? 'Paused' : 'Off'}</span>
                  )}
                  {!row.active && row.deactivatedReason && <div className="muted">{row.deactivatedReason}</div>}
                  {row.state === 'PAUSED' && (
                    <div className="held">
                      <span>
                        {row.heldDeliveries} {row.heldDeliveries === 1 ? 'delivery' : 'deliveries'} held
                      </span>{' '}
                      {mayManage && (
                        <button type="button" onClick={() => resume(row)}>
                          Resume
                        </button>
                      )}
                      {mayManage && row.heldDeliveries > 0 && (
                        <button type="button" className="danger" onClick={() => setDiscarding(row)}>
                          Discard held
                        </button>
                      )}
                    </div>
                  )}
                </td>
                <td data-label="Success">
                  {percent(row.stats.successRate)} <span className="muted">of {row.stats.total}</span>
                </td>
                <td data-label="Last delivery">{time(row.stats.lastDeliveryAt)}</td>
                <td className="row-actions">
                  <a href={`#/deliveries?webhook=${row.id}`}>Deliveries</a>
                  <a href={`#/webhooks/${row.id}`}>{mayManage ? 'Edit' : 'View'}</a>
                  {mayManage && row.state === 'ACTIVE' && (
                    <button type="button" onClick={() => pause(row)} title="Stop sending; deliveries are kept and sent on resume">
                      Pause
                    </button>
                  )}
                  {mayManage && (
                    <button type="button" className="danger" onClick={() => setDeleting(row)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Confirm
        open={deleting !== null}
        title="Delete webhook"
        message={
          <>
            Delete <strong>{deleting?.label}</strong>? It stops for good; pending and held deliveries are cancelled and its delivery history stays readable.
          </>
        }
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          await gql(DELETE, { id: deleting!.id });
          reload();
        }}
      />
      <Confirm
        open={discarding !== null}
        title="Discard held deliveries"
        message={
          <>
            Discard the <strong>{discarding?.heldDeliveries}</strong> {discarding?.heldDeliveries === 1 ? 'delivery' : 'deliveries'} held for <strong>{discarding?.label}</strong>? They are cancelled and never
            sent; the webhook stays paused.
          </>
        }
        action={`Discard ${discarding?.heldDeliveries ?? ''}`}
        onClose={() => setDiscarding(null)}
        onConfirm={async () => {
          await gql(DISCARD_HELD, { id: discarding!.id });
          reload();
        }}
      />
    </section>
  );
}
