// The tenant at a glance: its deliveries over time, what waits (the backlog), and the
// webhooks that need a look (failing, paused, off after failures, circuit open).
import { gql } from './api.ts';
import { graphql, type ResultOf } from './graphql.ts';
import { DeliveryCharts } from './Charts.tsx';
import { percent, time } from './format.ts';
import { useLoad } from './hooks.ts';
import { ErrorBanner } from './ui.tsx';

const WEBHOOKS = graphql(`{ webhooks(first: 200) { edges { node {
  id label state deactivatedReason heldDeliveries failingSince circuit { open }
  stats { successRate lastDeliveryAt byStatus { status count } }
} } } }`);
type Hook = ResultOf<typeof WEBHOOKS>['webhooks']['edges'][number]['node'];

const QUEUE = graphql(`{ viewer { tenant { deliveryQueue { waiting oldestWaitingSeconds } } } }`);

/** Past this, a delivery that may go has waited long enough to say why. */
const SHARE_NOTE_SECONDS = 2;

const count = (h: Hook, ...statuses: string[]) => h.stats.byStatus.filter((s) => statuses.includes(s.status)).reduce((n, s) => n + s.count, 0);

/** Why a webhook needs a look, or null when it does not. */
export function trouble(h: Hook): string | null {
  if (h.circuit.open) return 'circuit open: deliveries wait for a probe to succeed';
  if (h.state === 'PAUSED') return `paused${h.deactivatedReason ? `: ${h.deactivatedReason}` : ''}, holding ${h.heldDeliveries}`;
  if (h.state === 'DISABLED' && h.deactivatedReason) return `off: ${h.deactivatedReason}`;
  if (h.failingSince) return `failing since ${time(h.failingSince)}`;
  return null;
}

export function Overview() {
  const hooks = useLoad(() => gql(WEBHOOKS).then((d) => d.webhooks.edges.map((e) => e.node)), []);
  const queue = useLoad(() => gql(QUEUE).then((d) => d.viewer.tenant?.deliveryQueue ?? null), []);
  const list = hooks.data ?? [];
  const waiting = list.reduce((n, h) => n + count(h, 'PENDING', 'SENDING', 'RETRYING'), 0);
  const retrying = list.reduce((n, h) => n + count(h, 'RETRYING'), 0);
  const held = list.reduce((n, h) => n + count(h, 'PAUSED'), 0);
  const failing = list.map((h) => ({ h, why: trouble(h) })).filter((x) => x.why !== null);
  return (
    <section aria-labelledby="overview-title" className="overview">
      <div className="toolbar">
        <h1 id="overview-title">Overview</h1>
      </div>
      <ErrorBanner error={hooks.error} />
      {queue.data && queue.data.oldestWaitingSeconds >= SHARE_NOTE_SECONDS && (
        <div className="banner warn" role="status" data-testid="waiting-for-share">
          {queue.data.waiting} deliveries are waiting to be sent; the oldest has waited {Math.round(queue.data.oldestWaitingSeconds)} s for a worker. Herald shares its
          delivery workers between tenants: while others send too, yours take their turn.
        </div>
      )}
      <dl className="tiles">
        <div>
          <dt>Waiting to be sent</dt>
          <dd data-testid="backlog">{waiting}</dd>
        </div>
        <div>
          <dt>Retrying</dt>
          <dd>{retrying}</dd>
        </div>
        <div>
          <dt>Held by paused webhooks</dt>
          <dd>{held}</dd>
        </div>
        <div>
          <dt>Webhooks needing a look</dt>
          <dd data-testid="failing-count">{failing.length}</dd>
        </div>
      </dl>
      <DeliveryCharts title="All webhooks" />
      <h2>Webhooks needing a look</h2>
      {hooks.data && failing.length === 0 && <p className="empty">None: every webhook is delivering.</p>}
      {failing.length > 0 && (
        <table className="grid" data-testid="failing-webhooks">
          <thead>
            <tr>
              <th>Webhook</th>
              <th>Why</th>
              <th>Success</th>
              <th>Last delivery</th>
            </tr>
          </thead>
          <tbody>
            {failing.map(({ h, why }) => (
              <tr key={h.id}>
                <td data-label="Webhook">
                  <a href={`#/webhooks/${h.id}`}>{h.label}</a>
                </td>
                <td data-label="Why">{why}</td>
                <td data-label="Success">{percent(h.stats.successRate)}</td>
                <td data-label="Last delivery">{time(h.stats.lastDeliveryAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
