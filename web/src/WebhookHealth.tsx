// A saved webhook's delivery health: its state, what it holds, its circuit, its retry
// delays, and replaying stored events it never received (counted first).
import { useState } from 'react';
import { gql } from './api.ts';
import { graphql } from './graphql.ts';
import { time } from './format.ts';
import { useLoad } from './hooks.ts';
import { ErrorBanner } from './ui.tsx';
import { formatDuration } from './durations.ts';
import { useCan } from './viewer.ts';

const HEALTH = graphql(`query($id: ID!) { webhook(id: $id) {
  state heldDeliveries deactivatedReason deactivatedAt failingSince consecutiveFailures stats { lastSuccessAt lastFailureAt } retryDelaysMs finalStatusCodes rateLimit { perSecond maxInFlight }
  circuit { open failingAttempts reason nextProbeAt inFlightLimit parkedDeliveries }
} }`);
const REPLAY = graphql(`mutation($id: ID!, $filter: ReplayFilter!, $dryRun: Boolean) { replayEvents(webhookId: $id, filter: $filter, dryRun: $dryRun) { matched created more } }`);

export function WebhookHealth({ id }: { id: string }) {
  const health = useLoad(() => gql(HEALTH, { id }).then((d) => d.webhook), [id]);
  const [since, setSince] = useState(() => new Date(Date.now() - 86_400_000).toISOString().slice(0, 16));
  const [counted, setCounted] = useState<{ matched: number; more: boolean; since: string } | null>(null);
  const [replayed, setReplayed] = useState<string>();
  const [error, setError] = useState<unknown>();
  const mayManage = useCan('MANAGE');
  const h = health.data;
  if (!h) return <ErrorBanner error={health.error} />;
  const filter = () => ({ since: new Date(since).toISOString() });
  const count = async () => {
    setError(undefined);
    setReplayed(undefined);
    try {
      const { replayEvents } = await gql(REPLAY, { id, filter: filter(), dryRun: true });
      setCounted({ matched: replayEvents.matched, more: replayEvents.more, since });
    } catch (err) {
      setError(err);
    }
  };
  const replay = async () => {
    setError(undefined);
    try {
      const { replayEvents } = await gql(REPLAY, { id, filter: filter(), dryRun: false });
      setReplayed(`${replayEvents.created} ${replayEvents.created === 1 ? 'delivery' : 'deliveries'} created${replayEvents.more ? '; more remain: replay again to go on' : ''}.`);
      setCounted(null);
      health.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="health" aria-labelledby="health-title">
      <h2 id="health-title">Delivery health</h2>
      <dl>
        <dt>State</dt>
        <dd data-testid="webhook-state">
          {h.state === 'ACTIVE' ? 'Active' : h.state === 'PAUSED' ? `Paused, holding ${h.heldDeliveries}` : 'Off: takes no events'}
          {h.deactivatedReason && h.state !== 'ACTIVE' && (
            <div className="muted">
              {h.deactivatedReason}
              {h.deactivatedAt && ` (${time(h.deactivatedAt)})`}
            </div>
          )}
        </dd>
        <dt>Last success</dt>
        <dd data-testid="webhook-last-success">{h.stats.lastSuccessAt ? time(h.stats.lastSuccessAt) : 'none yet'}</dd>
        {h.failingSince && (
          <>
            <dt>Failing since</dt>
            <dd data-testid="webhook-failing-since">
              {time(h.failingSince)}: {h.consecutiveFailures} {h.consecutiveFailures === 1 ? 'delivery' : 'deliveries'} failed in a row
            </dd>
          </>
        )}
        <dt>Receiver</dt>
        <dd data-testid="webhook-circuit">
          {h.circuit.open
            ? `Failing: ${h.circuit.parkedDeliveries} waiting; next try ${time(h.circuit.nextProbeAt)}${h.circuit.reason ? ` (${h.circuit.reason})` : ''}`
            : h.circuit.failingAttempts > 0
              ? `${h.circuit.failingAttempts} failed attempts in a row`
              : 'Answering'}
          {h.circuit.inFlightLimit !== null && <div className="muted">It asked to slow down: at most {h.circuit.inFlightLimit} requests at once for now.</div>}
        </dd>
        <dt>Retries</dt>
        <dd>
          {h.retryDelaysMs.length ? `then after ${h.retryDelaysMs.map(formatDuration).join(', ')}` : 'none'}
          {h.finalStatusCodes.length > 0 && <div className="muted">not on {h.finalStatusCodes.join(', ')}</div>}
        </dd>
        {h.rateLimit && (
          <>
            <dt>Rate limit</dt>
            <dd>{[h.rateLimit.perSecond !== null && `${h.rateLimit.perSecond}/s`, h.rateLimit.maxInFlight !== null && `${h.rateLimit.maxInFlight} at once`].filter(Boolean).join(', ')}</dd>
          </>
        )}
      </dl>
      {mayManage && (
        <>
        <div className="row">
          <label>
            Replay events stored since{' '}
            <input type="datetime-local" value={since} onChange={(e) => (setSince(e.target.value), setCounted(null))} />
          </label>
          <button type="button" onClick={count} disabled={h.state === 'DISABLED'}>
            Count
          </button>
          {counted && counted.since === since && (
            <button type="button" className="primary" onClick={replay} disabled={counted.matched === 0}>
              Replay {counted.matched}
              {counted.more ? '+' : ''}
            </button>
          )}
        </div>
        </>
      )}
      {counted && counted.since === since && (
        <p className="muted" role="status">
          {counted.matched === 0 ? 'Nothing to replay: it has every event since then that it takes.' : `${counted.matched}${counted.more ? '+' : ''} stored events it takes and never received.`}
        </p>
      )}
      {replayed && <p role="status">{replayed}</p>}
      {h.state === 'DISABLED' && <p className="muted">Turn it on or pause it to replay events to it.</p>}
      <ErrorBanner error={error} />
    </section>
  );
}
