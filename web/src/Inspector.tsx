// The request inspector: inboxes on this server that capture every request sent
// to them, shown live, with the signature checked against a chosen webhook.
import { useEffect, useState } from 'react';
import { gql } from './api.ts';
import { graphql, type ResultOf } from './graphql.ts';
import { subscribe } from './live.ts';
import { go } from './routing.ts';
import { time } from './format.ts';
import { useLoad } from './hooks.ts';
import { Confirm, CopyButton, ErrorBanner, Field, HeaderTable, Json, unclaimed, fieldErrors } from './ui.tsx';
import { useCan, useNotAllowed } from './viewer.ts';

const INBOX = graphql(`fragment Inbox on Inbox { id name url respondWith webhookId expiresAt createdAt }`);
type Inbox = ResultOf<typeof INBOX>;
const REQUEST = graphql(`fragment Captured on InboxRequest { id method path headers body bodyTruncated receivedAt signatureValid signatureMessage }`);
const WEBHOOKS = graphql(`{ webhooks(first: 200) { edges { node { id label } } } }`);
const INBOXES = graphql(`{ inboxes(first: 50) { edges { node { ...Inbox } } } }`, [INBOX]);
const CREATE = graphql(`mutation($input: CreateInboxInput!) { createInbox(input: $input) { ...Inbox } }`, [INBOX]);
const UPDATE = graphql(`mutation($id: ID!, $input: UpdateInboxInput!) { updateInbox(id: $id, input: $input) { id } }`);
const DELETE = graphql(`mutation($id: ID!) { deleteInbox(id: $id) }`);
const REQUESTS = graphql(`query($id: ID!) { inbox(id: $id) { requests(first: 100) { edges { node { ...Captured } } } } }`, [REQUEST]);
const RECEIVED = graphql(`subscription($id: ID!) { inboxRequestReceived(inboxId: $id) { ...Captured } }`, [REQUEST]);

function useWebhooks() {
  return useLoad(() => gql(WEBHOOKS).then((d) => d.webhooks.edges.map((e) => e.node)), []);
}

export function Inspector({ open }: { open?: string }) {
  const inboxes = useLoad(() => gql(INBOXES).then((d) => d.inboxes.edges.map((e) => e.node)), []);
  const webhooks = useWebhooks();
  const [deleting, setDeleting] = useState<Inbox | null>(null);
  const current = inboxes.data?.find((i) => i.id === open);
  const mayManage = useCan('MANAGE');
  const notAllowed = useNotAllowed('MANAGE', 'create, change or delete inboxes');
  return (
    <section aria-labelledby="inspector-title" className="inspector">
      <div className="toolbar">
        <h1 id="inspector-title">Request inspector</h1>
      </div>
      <p className="muted">An inbox is a URL on this server that records every request sent to it. Use it as a webhook's URL to see exactly what Herald sends.</p>
      <ErrorBanner error={inboxes.error} />
      <div className="split">
        <div>
          {mayManage ? <NewInbox webhooks={webhooks.data ?? []} onCreated={(inbox) => (inboxes.reload(), go(`#/inspector/${inbox.id}`))} /> : <p className="muted">{notAllowed}</p>}
          <ul className="inbox-list" aria-label="Inboxes">
            {inboxes.data?.map((inbox) => (
              <li key={inbox.id} aria-current={inbox.id === open ? 'true' : undefined}>
                <a href={`#/inspector/${inbox.id}`}>{inbox.name}</a>
                <span className="muted"> answers {inbox.respondWith} · expires {time(inbox.expiresAt)}</span>
                {mayManage && (
                  <button type="button" className="link danger" onClick={() => setDeleting(inbox)} aria-label={`Delete inbox ${inbox.name}`}>
                    Delete
                  </button>
                )}
              </li>
            ))}
          </ul>
        </div>
        {current && <InboxView key={current.id} inbox={current} webhooks={webhooks.data ?? []} onChanged={inboxes.reload} mayManage={mayManage} />}
      </div>
      <Confirm
        open={deleting !== null}
        title="Delete inbox"
        message={`Delete ${deleting?.name} and every request it captured? Its URL stops answering.`}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          await gql(DELETE, { id: deleting!.id });
          if (deleting!.id === open) go('#/inspector');
          inboxes.reload();
        }}
      />
    </section>
  );
}

function NewInbox({ webhooks, onCreated }: { webhooks: { id: string; label: string }[]; onCreated: (inbox: Inbox) => void }) {
  const [name, setName] = useState('');
  const [respondWith, setRespondWith] = useState('200');
  const [webhookId, setWebhookId] = useState('');
  const [hours, setHours] = useState('168');
  const [error, setError] = useState<unknown>();
  const errors = fieldErrors(error);
  return (
    <form
      className="card"
      aria-label="New inbox"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          const d = await gql(CREATE, {
            input: { name, respondWith: Number(respondWith), webhookId: webhookId || null, expiresInHours: Number(hours) },
          });
          setName('');
          setError(undefined);
          onCreated(d.createInbox);
        } catch (err) {
          setError(err);
        }
      }}
    >
      <div className="row">
        <Field label="Inbox name" error={errors.name}>
          {(id, d) => <input id={id} aria-describedby={d} value={name} onChange={(e) => setName(e.target.value)} placeholder="Trying the delegate webhook" />}
        </Field>
        <Field label="Answers with" error={errors.respondWith} hint="HTTP status, 200–599">
          {(id, d) => <input id={id} aria-describedby={d} type="number" value={respondWith} onChange={(e) => setRespondWith(e.target.value)} />}
        </Field>
        <Field label="Expires after (hours)" error={errors.expiresInHours}>
          {(id, d) => <input id={id} aria-describedby={d} type="number" value={hours} onChange={(e) => setHours(e.target.value)} />}
        </Field>
        <WebhookSelect webhooks={webhooks} value={webhookId} onChange={setWebhookId} error={errors.webhookId} />
      </div>
      <ErrorBanner error={unclaimed(error, ['name', 'respondWith', 'expiresInHours', 'webhookId'])} />
      <button type="submit" className="primary">
        Create inbox
      </button>
    </form>
  );
}

function WebhookSelect({ webhooks, value, onChange, error, hint }: { webhooks: { id: string; label: string }[]; value: string; onChange: (id: string) => void; error?: string; hint?: string }) {
  return (
    <Field label="Check signatures of" error={error} hint={hint}>
      {(id, d) => (
        <select id={id} aria-describedby={d} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">No webhook (no check)</option>
          {webhooks.map((w) => (
            <option key={w.id} value={w.id}>
              {w.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function InboxView({ inbox, webhooks, onChanged, mayManage }: { inbox: Inbox; webhooks: { id: string; label: string }[]; onChanged: () => void; mayManage: boolean }) {
  const requests = useLoad(() => gql(REQUESTS, { id: inbox.id }).then((d) => d.inbox?.requests.edges.map((e) => e.node) ?? []), [inbox.id]);
  const [selected, setSelected] = useState<string>();
  const [error, setError] = useState<unknown>();

  useEffect(
    () =>
      subscribe(RECEIVED, { id: inbox.id }, ({ inboxRequestReceived: r }) =>
        requests.setData((list) => [r, ...(list ?? []).filter((x) => x.id !== r.id)].slice(0, 100)),
        { onGap: requests.reload },
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [inbox.id],
  );

  const shown = requests.data?.find((r) => r.id === selected) ?? requests.data?.[0];
  return (
    <div className="inbox-view" aria-label={`Inbox ${inbox.name}`}>
      <h2>{inbox.name}</h2>
      <div className="copy">
        <code data-testid="inbox-url">{inbox.url}</code>
        <CopyButton text={inbox.url} label="Copy URL" selectIn='[data-testid="inbox-url"]' />
      </div>
      {mayManage && (
        <div className="row">
          <WebhookSelect
            webhooks={webhooks}
            value={inbox.webhookId ?? ''}
            hint="The requests below are checked again when you choose."
            onChange={async (webhookId) => {
              try {
                await gql(UPDATE, { id: inbox.id, input: { webhookId: webhookId || null } });
                onChanged();
                requests.reload();
              } catch (err) {
                setError(err);
              }
            }}
          />
          <AnswerWith inbox={inbox} onChanged={onChanged} onError={setError} />
        </div>
      )}
      <ErrorBanner error={(error ?? requests.error) as unknown} />
      {requests.data?.length === 0 && <p className="empty">Nothing yet. Requests to the URL above appear here as they arrive.</p>}
      <div className="requests">
        <ul className="request-list" aria-label="Captured requests">
          {requests.data?.map((r) => (
            <li key={r.id}>
              <button type="button" aria-pressed={shown?.id === r.id} onClick={() => setSelected(r.id)} data-request={r.id}>
                <strong>{r.method}</strong> {r.path} <span className="muted">{time(r.receivedAt)}</span> <Signature valid={r.signatureValid} />
              </button>
            </li>
          ))}
        </ul>
        {shown && (
          <div className="request-detail" data-testid="captured-request">
            <p>
              <strong>{shown.method}</strong> {shown.path} · {time(shown.receivedAt)} <Signature valid={shown.signatureValid} />
            </p>
            {shown.signatureMessage && <p className="muted">{shown.signatureMessage}</p>}
            <HeaderTable headers={Object.entries(shown.headers as Record<string, string>).map(([name, value]) => ({ name, value }))} />
            <Json value={shown.body} />
            {shown.bodyTruncated && <p className="muted">The body was cut at the inbox's size limit.</p>}
          </div>
        )}
      </div>
    </div>
  );
}

/** The status the inbox answers with, changed in place (to try failures and retries, then success). */
function AnswerWith({ inbox, onChanged, onError }: { inbox: Inbox; onChanged: () => void; onError: (err: unknown) => void }) {
  const [value, setValue] = useState(String(inbox.respondWith));
  const [saved, setSaved] = useState(false);
  return (
    <form
      className="row align-end"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await gql(UPDATE, { id: inbox.id, input: { respondWith: Number(value) } });
          setSaved(true);
          onChanged();
        } catch (err) {
          onError(err);
        }
      }}
    >
      <Field label="Answers with" hint={saved ? `Now answers ${value}.` : 'HTTP status, 200–599'}>
        {(id, d) => <input id={id} aria-describedby={d} type="number" value={value} onChange={(e) => (setValue(e.target.value), setSaved(false))} />}
      </Field>
      <button type="submit" disabled={value === String(inbox.respondWith)}>
        Change
      </button>
    </form>
  );
}

function Signature({ valid }: { valid: boolean | null }) {
  if (valid === null) return null;
  return <span className={`badge ${valid ? 'status-completed' : 'status-failed'}`}>{valid ? 'signature valid' : 'signature invalid'}</span>;
}

