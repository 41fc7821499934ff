// One delivery, in a drawer beside the grid (over it on a phone): what was sent, every
// attempt, the events of a batch. Focus moves into it when it opens; Escape or ✕ closes
// it and focus goes back to its row.
import { gql } from './api.ts';
import { ROW, type Row } from './delivery.ts';
import { graphql } from './graphql.ts';
import { time } from './format.ts';
import { useLoad } from './hooks.ts';
import { Drawer, ErrorBanner, HeaderTable, Json, StatusBadge } from './ui.tsx';

const DETAIL = graphql(
  `query($id: ID!) { instance(id: $id) {
    ...Row payload request
    events { id type entityId occurredAt }
    attemptLog { number trigger startedAt durationMs statusCode errorKind message location responseBody }
  } }`,
  [ROW],
);

/** Instance.request (JSON): the request as Herald shows it. */
interface SentRequest {
  method: string;
  url: string;
  headers: Array<{ name: string; value: string }>;
  body: string | null;
}

export function DeliveryDetail(props: { id: string; version: number; onClose: () => void; act: (what: 'retrigger' | 'cancel', row: Row) => void; mayOperate: boolean; notAllowed?: string }) {
  const { id, version, onClose, act } = props;
  const { data, error } = useLoad(() => gql(DETAIL, { id }).then((d) => d.instance), [id, version]);
  const request = data?.request as SentRequest | null | undefined;
  return (
    <Drawer label="Delivery detail" title="Delivery" focusKey={id} onClose={onClose}>
      <ErrorBanner error={error} />
      {data && (
        <>
          <p>
            <StatusBadge status={data.status} /> {data.webhook.label} · {data.event.type} #{data.entityId}
          </p>
          <p className="muted">
            Created {time(data.createdAt)}
            {data.nextAttemptAt && ['PENDING', 'RETRYING'].includes(data.status) && <> · next attempt {time(data.nextAttemptAt)}</>}
          </p>
          {props.mayOperate ? (
            <div className="actions">
              <button type="button" className="primary" onClick={() => act('retrigger', data)}>
                Re-trigger
              </button>
              {['PENDING', 'RETRYING', 'PAUSED'].includes(data.status) && (
                <button type="button" onClick={() => act('cancel', data)}>
                  Cancel
                </button>
              )}
            </div>
          ) : (
            <p className="muted">{props.notAllowed}</p>
          )}
          <h3>Request sent</h3>
          {request ? (
            <>
              <p className="mono wrap">
                {request.method} {request.url}
              </p>
              <HeaderTable headers={request.headers} />
              <Json value={request.body} />
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
            {data.attemptLog.map((a) => (
              <li key={a.number}>
                <strong>#{a.number}</strong> {time(a.startedAt)} · {a.trigger} · {a.statusCode ?? a.errorKind} · {a.durationMs} ms
                {a.message && <div className="wrap">{a.message}</div>}
                {a.location && <div className="muted wrap">Location: {a.location}</div>}
                {a.responseBody && <Json value={a.responseBody} />}
              </li>
            ))}
          </ol>
          {data.events.length > 1 && (
            <>
              <h3>Events in this batch</h3>
              <ul>
                {data.events.map((e) => (
                  <li key={e.id}>
                    {e.type} #{e.entityId} · {time(e.occurredAt)}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </Drawer>
  );
}
