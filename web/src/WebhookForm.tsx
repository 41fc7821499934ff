// Create or edit a webhook: label → topic and trigger → conditions → endpoint →
// method → data, with a payload preview that follows the form and a Test button.
import { useEffect, useMemo, useRef, useState } from 'react';
import { gql } from './api.ts';
import { go } from './routing.ts';
import { loadTopics, topicKeysOf, type Topic } from './catalog.ts';
import { alwaysSecret } from './meta.ts';
import { ConditionsBuilder, fromApi, rekey, toApi, type Node } from './Conditions.tsx';
import { WebhookHealth } from './WebhookHealth.tsx';
import { DeliveryCharts } from './Charts.tsx';
import { formatDuration, parseDuration } from './durations.ts';
import { ErrorBanner, Field, HeaderTable, Json, SecretOnce, errorFor, fieldErrors, unclaimed, time, useDebounced, useLoad } from './ui.tsx';
import { useCan, useNotAllowed } from './viewer.ts';
import { clearDraft, readDraft, saveDraft, type Draft } from './drafts.ts';

interface Header {
  name: string;
  value: string;
  secret: boolean;
  /** A saved secret value is never shown again: left empty, it is kept. */
  hidden?: boolean;
}

interface Form {
  label: string;
  description: string;
  events: string[];
  triggers: { topic: string; trigger: string }[];
  conditionMatch: 'ALL' | 'ANY';
  conditions: Node[];
  url: string;
  method: string;
  headers: Header[];
  payloadMode: string;
  selectedFields: string[];
  template: string;
  templateFormat: string;
  timeoutMs: string;
  maxAttempts: string;
  /** SCHEDULE: the delays listed in retryScheduleMs; EXPONENTIAL: from backoffBaseMs, doubling. */
  retryMode: 'SCHEDULE' | 'EXPONENTIAL';
  /** Delays as people write them: "5m, 30m, 2h, 24h". */
  retryScheduleMs: string;
  backoffBaseMs: string;
  backoffCapMs: string;
  /** "400, 401, 422" */
  finalStatusCodes: string;
  batchWindowMs: string;
  batchMaxSize: string;
  orderedDelivery: boolean;
  traceContext: boolean;
  active: boolean;
}

const EMPTY: Form = {
  label: '',
  description: '',
  events: [],
  triggers: [],
  conditionMatch: 'ALL',
  conditions: [],
  url: '',
  method: 'POST',
  headers: [],
  payloadMode: 'FULL',
  selectedFields: [],
  template: '',
  templateFormat: 'JSON',
  timeoutMs: '10000',
  maxAttempts: '5',
  // The API's default for a new webhook: 5 attempts over a day and a half.
  retryMode: 'SCHEDULE',
  retryScheduleMs: '5m, 30m, 2h, 24h',
  backoffBaseMs: '30000',
  backoffCapMs: '3600000',
  finalStatusCodes: '',
  batchWindowMs: '',
  batchMaxSize: '100',
  orderedDelivery: false,
  traceContext: false,
  // As the API and the seed products: a new webhook waits inactive until it is switched on.
  active: false,
};

const WEBHOOK = `query($id: ID!) { webhook(id: $id) {
  id label description events active url method payloadMode selectedFields template templateFormat
  timeoutMs maxAttempts retryScheduleMs backoffBaseMs backoffCapMs finalStatusCodes batchWindowMs batchMaxSize orderedDelivery traceContext conditionMatch
  secretHint previousSecretExpiresAt deletedAt deactivatedReason
  headers { name value secret }
  conditions { ...C children { ...C children { ...C children { ...C children { ...C } } } } }
} }
fragment C on Condition { id kind match operator path values }`;

/**
 * "Alert me" presets: a webhook on Herald's own topic with a Slack- or Teams-shaped
 * message; the person adds the channel's incoming-webhook URL.
 */
const SLACK_TEXT = 'Herald: {{ event.action | replace: \'_\', \' \' }}: {{ data.webhookLabel }}{% if data.reason %}: {{ data.reason }}{% endif %}{% if data.lastMessage %} ({{ data.lastMessage }}){% endif %}';
const ALERT_PRESETS: Array<{ name: string; label: string; events: string[]; template: string }> = [
  {
    name: 'Slack: a webhook is failing, paused or recovered',
    label: 'Alert Slack about webhooks',
    events: ['herald.webhook_failing', 'herald.webhook_deactivated', 'herald.webhook_recovered', 'herald.webhook_paused', 'herald.webhook_resumed'],
    template: `{"text": "${SLACK_TEXT}"}`,
  },
  {
    name: 'Slack: a delivery failed for good',
    label: 'Alert Slack about failed deliveries',
    events: ['herald.instance_failed'],
    template: `{"text": "${SLACK_TEXT}"}`,
  },
  {
    name: 'Microsoft Teams: a webhook is failing, paused or recovered',
    label: 'Alert Teams about webhooks',
    events: ['herald.webhook_failing', 'herald.webhook_deactivated', 'herald.webhook_recovered', 'herald.webhook_paused', 'herald.webhook_resumed'],
    template: `{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "wrap": true, "text": "${SLACK_TEXT}"}]}}]}`,
  },
];

const METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];
const MODES: [string, string][] = [
  ['FULL', 'Everything: the envelope and all data'],
  ['ID_ONLY', 'Only the id (the envelope)'],
  ['ID_AND_MODIFIED_FIELDS', 'The id and the fields that changed'],
  ['SELECTED_FIELDS', 'The id and chosen fields'],
  ['CHANGES', 'Changes list (Springest style)'],
  ['CUSTOM', 'A template of my own'],
];
const TRIGGERS: [string, string][] = [
  ['CREATE', 'is created'],
  ['UPDATE', 'is updated'],
  ['CREATE_OR_UPDATE', 'is created or updated'],
  ['DELETE', 'is deleted'],
];
/** The form's fields, to tell which API errors a field shows and which go to the banner. */
const FIELDS = Object.keys(EMPTY);

function fromWebhook(w: any): Form {
  return {
    ...EMPTY,
    label: w.label,
    description: w.description,
    events: w.events,
    conditionMatch: w.conditionMatch,
    conditions: fromApi(w.conditions),
    url: w.url,
    method: w.method,
    headers: w.headers.map((h: any) => ({ name: h.name, value: h.value ?? '', secret: h.secret, hidden: h.value === null })),
    payloadMode: w.payloadMode,
    selectedFields: w.selectedFields,
    template: w.template ?? '',
    templateFormat: w.templateFormat ?? 'JSON',
    timeoutMs: String(w.timeoutMs),
    maxAttempts: String(w.maxAttempts),
    retryMode: w.retryScheduleMs.length ? 'SCHEDULE' : 'EXPONENTIAL',
    retryScheduleMs: w.retryScheduleMs.length ? w.retryScheduleMs.map(formatDuration).join(', ') : EMPTY.retryScheduleMs,
    backoffBaseMs: String(w.backoffBaseMs),
    backoffCapMs: String(w.backoffCapMs),
    finalStatusCodes: w.finalStatusCodes.join(', '),
    batchWindowMs: w.batchWindowMs === null ? '' : String(w.batchWindowMs),
    batchMaxSize: String(w.batchMaxSize),
    orderedDelivery: w.orderedDelivery,
    traceContext: w.traceContext,
    active: w.active,
  };
}

const number = (text: string) => (text.trim() === '' ? undefined : Number(text));



/** The form as `CreateWebhookInput`; `headers` only when they may be sent as they are. */
function toInput(form: Form, topics: Topic[], { withHeaders }: { withHeaders: boolean }) {
  const fields = topics.filter((t) => topicKeysOf(form.events, form.triggers).includes(t.key)).flatMap((t) => t.fields);
  return {
    label: form.label,
    description: form.description,
    events: form.events,
    triggers: form.triggers,
    conditionMatch: form.conditionMatch,
    conditions: toApi(form.conditions, fields),
    url: form.url,
    method: form.method,
    ...(withHeaders ? { headers: form.headers.map(({ name, value, secret }) => ({ name, value, secret })) } : {}),
    payloadMode: form.payloadMode,
    selectedFields: form.selectedFields,
    template: form.payloadMode === 'CUSTOM' ? form.template : null,
    templateFormat: form.payloadMode === 'CUSTOM' ? form.templateFormat : null,
    timeoutMs: number(form.timeoutMs),
    maxAttempts: number(form.maxAttempts),
    ...(form.retryMode === 'SCHEDULE'
      ? { retryScheduleMs: form.retryScheduleMs.split(',').map((d) => d.trim()).filter(Boolean).map(parseDuration) }
      : { retryScheduleMs: null, backoffBaseMs: number(form.backoffBaseMs), backoffCapMs: number(form.backoffCapMs) }),
    finalStatusCodes: form.finalStatusCodes.split(/[\s,]+/).filter(Boolean).map((c) => (/^\d+$/.test(c) ? Number(c) : 0)),
    batchWindowMs: number(form.batchWindowMs) ?? null,
    batchMaxSize: number(form.batchMaxSize),
    orderedDelivery: form.orderedDelivery,
    traceContext: form.traceContext,
    active: form.active,
  };
}

/** The secret of a webhook just created, shown once by the page the creation leads to. */
let justCreatedSecret: string | undefined;

export function WebhookForm({ id }: { id?: string }) {
  const mayManage = useCan('MANAGE');
  const notAllowed = useNotAllowed('MANAGE', id ? 'change webhooks' : 'create webhooks');
  const topics = useLoad(loadTopics, []);
  const saved = useLoad(() => (id ? gql(WEBHOOK, { id }).then((d) => d.webhook) : Promise.resolve(null)), [id]);
  const [form, setForm] = useState<Form>(EMPTY);
  const [headersTouched, setHeadersTouched] = useState(!id);
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const [secret, setSecret] = useState<string | undefined>(() => {
    const shown = justCreatedSecret;
    justCreatedSecret = undefined;
    return shown;
  });
  const [busy, setBusy] = useState(false);
  const [restored, setRestored] = useState<Draft<Form> | null>(null);
  const draftKey = `webhook:${id ?? 'new'}`;
  const formRef = useRef<HTMLFormElement>(null);

  // The saved webhook, or the changes not saved yet when this page was left for another (a draft in this tab).
  useEffect(() => {
    if (id && !saved.data) return;
    const draft = readDraft<Form>(draftKey);
    if (draft) {
      setForm({ ...draft.form, conditions: rekey(draft.form.conditions) });
      setDirty(true);
      setHeadersTouched(true);
      setRestored(draft);
    } else if (saved.data) setForm(fromWebhook(saved.data));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [saved.data]);
  useEffect(() => {
    if (dirty) saveDraft(draftKey, form);
  }, [dirty, form, draftKey]);
  // Closing or reloading the tab with changes not saved asks first.
  useEffect(() => {
    if (!dirty) return;
    const ask = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [dirty]);
  const discardDraft = () => {
    clearDraft(draftKey);
    setRestored(null);
    setDirty(false);
    setForm(saved.data ? fromWebhook(saved.data) : EMPTY);
  };
  // After a refused save: the first field named goes into view with focus (or the message no field claims).
  useEffect(() => {
    if (!error) return;
    const frame = requestAnimationFrame(() => {
      const first = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], .field.invalid input, .field.invalid select, .field.invalid textarea, .banner.error');
      first?.scrollIntoView({ block: 'center' });
      if (first && !first.classList.contains('banner')) first.focus({ preventScroll: true });
    });
    return () => cancelAnimationFrame(frame);
  }, [error]);

  // A field's error goes once the field is changed; the rest stay until the next save.
  const [changedSinceSave, setChangedSinceSave] = useState<string[]>([]);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setDirty(true);
    setNotice(undefined);
    setChangedSinceSave((keys) => [...keys, key, ...(key === 'triggers' ? ['events'] : key === 'events' ? ['triggers'] : [])]);
  };
  const setHeaders = (headers: Header[]) => {
    set('headers', headers);
    setHeadersTouched(true);
  };

  const allTopics = topics.data ?? [];
  const chosenTopics = allTopics.filter((t) => topicKeysOf(form.events, form.triggers).includes(t.key));
  const catalog = chosenTopics.flatMap((t) => t.fields);
  const hiddenSecretUntouched = form.headers.some((h) => h.hidden && h.value === '');
  const input = useMemo(() => toInput(form, allTopics, { withHeaders: headersTouched && !hiddenSecretUntouched }), [form, allTopics, headersTouched, hiddenSecretUntouched]);
  const errors = Object.fromEntries(Object.entries(fieldErrors(error)).filter(([name]) => !changedSinceSave.some((key) => name === key || name.startsWith(`${key}[`) || name.startsWith(`${key}.`))));

  const save = async () => {
    setBusy(true);
    setError(undefined);
    setChangedSinceSave([]);
    try {
      if (id) {
        await gql(`mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`, { id, input });
        clearDraft(draftKey);
        setRestored(null);
        setDirty(false);
        setNotice('Saved.');
        saved.reload();
      } else {
        const data = await gql(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }`, { input });
        justCreatedSecret = data.createWebhook.secret;
        clearDraft(draftKey);
        setDirty(false);
        go(`#/webhooks/${data.createWebhook.webhook.id}`);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const rotate = async () => {
    try {
      const data = await gql(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id });
      setSecret(data.rotateWebhookSecret.secret);
      saved.reload();
    } catch (err) {
      setError(err);
    }
  };

  if (id && saved.error) return <ErrorBanner error={saved.error} />;
  if (id && !saved.data) return <p className="loading">Loading…</p>;
  const deleted = Boolean(saved.data?.deletedAt);
  const readOnly = !mayManage || deleted;

  return (
    <section aria-labelledby="form-title" className="webhook-form">
      <div className="toolbar">
        <h1 id="form-title">{id ? `Webhook: ${saved.data.label}` : 'New webhook'}</h1>
        {id && <a href={`#/deliveries?webhook=${id}`}>Deliveries</a>}
      </div>
      {deleted && <div className="banner">This webhook was deleted; its history stays readable.</div>}
      {id && !deleted && <WebhookHealth id={id} />}
      {id && !deleted && <DeliveryCharts webhookId={id} />}
      <form
        ref={formRef}
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
        noValidate
      >
        <div className="columns">
          <div className="form-main">
            {notAllowed && <div className="banner">{notAllowed} This is what it is set to.</div>}
            {restored && (
              <div className="banner warn" role="status">
                Your changes from {time(new Date(restored.at).toISOString())} were kept while you were away; they are not saved yet.{' '}
                <button type="button" className="link" onClick={discardDraft}>
                  Discard them
                </button>
              </div>
            )}
            {!form.active && !readOnly && (
              <div className="banner warn" data-testid="inactive-warning">
                {id ? 'This webhook is off: it sends nothing.' : 'It will be created off: it sends nothing until it is switched on.'} Tick “Active (sends deliveries)” below to send.
              </div>
            )}
            <fieldset className="bare" disabled={readOnly}>
            {!id && (
              <Field label="Start from" hint="an alert through Herald's own events: paste the channel's incoming-webhook URL below">
                {(fid, d) => (
                  <select
                    id={fid}
                    aria-describedby={d}
                    defaultValue=""
                    onChange={(e) => {
                      const preset = ALERT_PRESETS.find((p) => `Alert me — ${p.name}` === e.target.value);
                      if (!preset) return;
                      setForm((f) => ({ ...f, label: preset.label, events: preset.events, triggers: [], payloadMode: 'CUSTOM', templateFormat: 'JSON', template: preset.template }));
                      setDirty(true);
                    }}
                  >
                    <option value="">an empty webhook</option>
                    {ALERT_PRESETS.map((p) => (
                      <option key={p.name}>{`Alert me — ${p.name}`}</option>
                    ))}
                  </select>
                )}
              </Field>
            )}
            <fieldset>
              <legend>1. Label</legend>
              <Field label="Label" error={errors.label}>
                {(fid, d) => <input id={fid} aria-describedby={d} value={form.label} onChange={(e) => set('label', e.target.value)} required maxLength={200} />}
              </Field>
              <Field label="Description" error={errors.description} wide>
                {(fid, d) => <textarea id={fid} aria-describedby={d} rows={2} value={form.description} onChange={(e) => set('description', e.target.value)} />}
              </Field>
            </fieldset>

            <fieldset>
              <legend>2. Topic and trigger</legend>
              <Triggers form={form} topics={allTopics} set={set} errors={errors} />
            </fieldset>

            <fieldset>
              <legend>3. Conditions</legend>
              <Field label="Send when" error={errors.conditionMatch}>
                {(fid) => (
                  <select id={fid} value={form.conditionMatch} onChange={(e) => set('conditionMatch', e.target.value as 'ALL' | 'ANY')}>
                    <option value="ALL">all conditions hold</option>
                    <option value="ANY">any condition holds</option>
                  </select>
                )}
              </Field>
              <ConditionsBuilder nodes={form.conditions} onChange={(c) => set('conditions', c)} fields={catalog} errors={errors} />
            </fieldset>

            <fieldset>
              <legend>4. Endpoint and method</legend>
              <Field label="URL" error={errors.url} hint="http(s); {id} becomes the entity id." wide>
                {(fid, d) => <input id={fid} aria-describedby={d} type="url" inputMode="url" placeholder="https://example.com/hooks/{id}" value={form.url} onChange={(e) => set('url', e.target.value)} required />}
              </Field>
              <Field label="Method" error={errors.method}>
                {(fid) => (
                  <select id={fid} value={form.method} onChange={(e) => set('method', e.target.value)}>
                    {METHODS.map((m) => (
                      <option key={m}>{m}</option>
                    ))}
                  </select>
                )}
              </Field>
              <Headers headers={form.headers} onChange={setHeaders} error={errorFor(errors, 'headers')} />
            </fieldset>

            <fieldset>
              <legend>5. Data</legend>
              <Field label="Payload" error={errors.payloadMode} wide>
                {(fid) => (
                  <select id={fid} value={form.payloadMode} onChange={(e) => set('payloadMode', e.target.value)}>
                    {MODES.map(([value, label]) => (
                      <option key={value} value={value}>
                        {label}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              {form.payloadMode === 'SELECTED_FIELDS' && (
                <fieldset className="checks" aria-describedby="selected-error">
                  <legend>Fields to send</legend>
                  {catalog.length === 0 && <p className="muted">Choose a topic with a field catalog first.</p>}
                  {catalog.map((f) => (
                    <label key={f.path}>
                      <input
                        type="checkbox"
                        checked={form.selectedFields.includes(f.path)}
                        onChange={(e) => set('selectedFields', e.target.checked ? [...form.selectedFields, f.path] : form.selectedFields.filter((p) => p !== f.path))}
                      />
                      {f.label} <code>{f.path}</code>
                    </label>
                  ))}
                  {errorFor(errors, 'selectedFields') && (
                    <small id="selected-error" className="error" role="alert">
                      {errorFor(errors, 'selectedFields')}
                    </small>
                  )}
                </fieldset>
              )}
              {form.payloadMode === 'CUSTOM' && (
                <>
                  <Field label="Template format" error={errors.templateFormat}>
                    {(fid) => (
                      <select id={fid} value={form.templateFormat} onChange={(e) => set('templateFormat', e.target.value)}>
                        {['JSON', 'XML', 'FORM', 'TEXT'].map((f) => (
                          <option key={f}>{f}</option>
                        ))}
                      </select>
                    )}
                  </Field>
                  <Field label="Template" error={errors.template} hint={<MergeTags fields={catalog} />} wide>
                    {(fid, d) => <textarea id={fid} aria-describedby={d} className="mono" rows={8} value={form.template} onChange={(e) => set('template', e.target.value)} placeholder={'{"name": "@@CandidateForename", "id": "{{ event.entityId }}"}'} />}
                  </Field>
                </>
              )}
            </fieldset>

            <fieldset>
              <legend>Delivery</legend>
              <div className="row">
                <NumberField label="Timeout (ms)" value={form.timeoutMs} onChange={(v) => set('timeoutMs', v)} error={errors.timeoutMs} hint="1000–30000" />
                <NumberField label="Attempts" value={form.maxAttempts} onChange={(v) => set('maxAttempts', v)} error={errors.maxAttempts} hint="1–100" />
                <Field label="Retries">
                  {(fid) => (
                    <select id={fid} value={form.retryMode} onChange={(e) => set('retryMode', e.target.value as Form['retryMode'])}>
                      <option value="SCHEDULE">on a schedule</option>
                      <option value="EXPONENTIAL">exponential backoff</option>
                    </select>
                  )}
                </Field>
                {form.retryMode === 'SCHEDULE' ? (
                  <Field label="Wait before each retry" error={errorFor(errors, 'retryScheduleMs')} hint="e.g. 5m, 30m, 2h, 24h (the last repeats)">
                    {(fid, d) => <input id={fid} aria-describedby={d} value={form.retryScheduleMs} onChange={(e) => set('retryScheduleMs', e.target.value)} />}
                  </Field>
                ) : (
                  <>
                    <NumberField label="First retry after (ms)" value={form.backoffBaseMs} onChange={(v) => set('backoffBaseMs', v)} error={errors.backoffBaseMs} hint="doubles each attempt" />
                    <NumberField label="Longest retry wait (ms)" value={form.backoffCapMs} onChange={(v) => set('backoffCapMs', v)} error={errors.backoffCapMs} />
                  </>
                )}
                <Field label="Do not retry on" error={errorFor(errors, 'finalStatusCodes')} hint="status codes, e.g. 400, 401, 422 (410 never retries)">
                  {(fid, d) => <input id={fid} aria-describedby={d} value={form.finalStatusCodes} onChange={(e) => set('finalStatusCodes', e.target.value)} />}
                </Field>
                <NumberField label="Batch window (ms)" value={form.batchWindowMs} onChange={(v) => set('batchWindowMs', v)} error={errors.batchWindowMs} hint="empty: no batching" />
                <NumberField label="Batch size" value={form.batchMaxSize} onChange={(v) => set('batchMaxSize', v)} error={errors.batchMaxSize} hint="1–1000" />
              </div>
              <label className="check">
                <input type="checkbox" checked={form.orderedDelivery} onChange={(e) => set('orderedDelivery', e.target.checked)} /> Deliver each entity's events in order
              </label>
              {errors.orderedDelivery && <small className="error">{errors.orderedDelivery}</small>}
              <label className="check">
                <input type="checkbox" checked={form.traceContext} onChange={(e) => set('traceContext', e.target.checked)} /> Send trace context (W3C traceparent, while Herald's tracing is on)
              </label>
              <label className="check">
                <input type="checkbox" checked={form.active} onChange={(e) => set('active', e.target.checked)} /> Active (sends deliveries)
              </label>
              {saved.data && (
                <p className="muted">
                  Signing secret ends in <code>{saved.data.secretHint}</code>
                  {saved.data.previousSecretExpiresAt && <> (the previous one also signs until {time(saved.data.previousSecretExpiresAt)})</>}.{' '}
                  <button type="button" className="link" onClick={rotate} disabled={deleted}>
                    Rotate secret
                  </button>
                </p>
              )}
            </fieldset>

            </fieldset>
            <ErrorBanner error={unclaimed(error, FIELDS)} />
            <div className="actions sticky">
              <a className="button" href="#/webhooks">
                Back
              </a>
              {!readOnly && (
                <button type="submit" className="primary" disabled={busy}>
                  {id ? 'Save' : 'Create webhook'}
                </button>
              )}
              {notice && (
                <span className="saved" role="status">
                  {notice}
                </span>
              )}
              {!notice && dirty && !readOnly && <span className="muted">Not saved yet.</span>}
            </div>
          </div>
          <aside className="form-side">
            <Preview input={input} topics={chosenTopics} webhookId={id} dirty={dirty || !id} active={form.active} />
          </aside>
        </div>
      </form>
      <SecretOnce title="Signing secret" secret={secret} testId="secret" onClose={() => setSecret(undefined)}>
        Receivers check the <code>webhook-signature</code> header with it.
      </SecretOnce>
    </section>
  );
}

function NumberField(props: { label: string; value: string; onChange: (v: string) => void; error?: string; hint?: string }) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {(id, d) => <input id={id} aria-describedby={d} type="number" inputMode="numeric" value={props.value} onChange={(e) => props.onChange(e.target.value)} />}
    </Field>
  );
}

function Triggers({ form, topics, set, errors }: { form: Form; topics: Topic[]; set: <K extends keyof Form>(k: K, v: Form[K]) => void; errors: Record<string, string> }) {
  const [topic, setTopic] = useState('');
  const [trigger, setTrigger] = useState('CREATE');
  const [eventType, setEventType] = useState('');
  // Choosing a topic and a trigger takes effect at once: the chip they made follows both selects
  // until "Add another trigger" starts the next one.
  const [made, setMade] = useState<number | null>(null);
  const choose = (nextTopic: string, nextTrigger: string) => {
    setTopic(nextTopic);
    setTrigger(nextTrigger);
    if (!nextTopic) return;
    const chosen = { topic: nextTopic, trigger: nextTrigger };
    const others = form.triggers.filter((_, i) => i !== made);
    if (others.some((t) => t.topic === chosen.topic && t.trigger === chosen.trigger)) return;
    if (made !== null && made < form.triggers.length) set('triggers', form.triggers.map((t, i) => (i === made ? chosen : t)));
    else {
      set('triggers', [...form.triggers, chosen]);
      setMade(form.triggers.length);
    }
  };
  const everyType = topics.flatMap((t) => [...t.eventTypes, `${t.key}.*`]);
  const addEvent = () => {
    const type = eventType.trim();
    if (type && !form.events.includes(type)) set('events', [...form.events, type]);
    setEventType('');
  };
  return (
    <>
      <div className="row">
        <Field label="Topic" error={errorFor(errors, 'triggers')}>
          {(id, d) => (
            <select id={id} aria-describedby={d} value={topic} onChange={(e) => choose(e.target.value, trigger)}>
              <option value="">Choose a topic…</option>
              {topics.map((t) => (
                <option key={t.key} value={t.key}>
                  {t.name} ({t.key})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Trigger">
          {(id) => (
            <select id={id} value={trigger} onChange={(e) => choose(topic, e.target.value)}>
              {TRIGGERS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button
          type="button"
          className="align-end"
          disabled={!topic}
          onClick={() => {
            setMade(null);
            setTopic('');
          }}
        >
          Add another trigger
        </button>
      </div>
      <div className="row">
        <Field label="Or an event type" error={errorFor(errors, 'events')} hint="topic.action, or topic.* for all">
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              list="event-types"
              value={eventType}
              onChange={(e) => setEventType(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  addEvent();
                }
              }}
              placeholder="delegate.created"
            />
          )}
        </Field>
        <datalist id="event-types">
          {everyType.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <button type="button" className="align-end" disabled={!eventType.trim()} onClick={addEvent}>
          Add event
        </button>
      </div>
      <ul className="chips" aria-label="Chosen events">
        {form.triggers.map((t, i) => (
          <li key={`t${i}`}>
            {t.topic} {TRIGGERS.find(([v]) => v === t.trigger)?.[1]}
            <button
              type="button"
              aria-label={`Remove ${t.topic} ${t.trigger}`}
              onClick={() => {
                set('triggers', form.triggers.filter((_, j) => j !== i));
                setMade(null);
                setTopic('');
              }}
            >
              ✕
            </button>
          </li>
        ))}
        {form.events.map((e) => (
          <li key={e}>
            {e}
            <button type="button" aria-label={`Remove ${e}`} onClick={() => set('events', form.events.filter((x) => x !== e))}>
              ✕
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

function Headers({ headers, onChange, error }: { headers: Header[]; onChange: (h: Header[]) => void; error?: string }) {
  const update = (i: number, patch: Partial<Header>) => onChange(headers.map((h, j) => (j === i ? { ...h, ...patch } : h)));
  return (
    <fieldset className="headers">
      <legend>Headers</legend>
      {headers.map((h, i) => (
        <div className="row" key={i}>
          <input aria-label={`Header ${i + 1} name`} placeholder="X-Api-Key" value={h.name} onChange={(e) => update(i, { name: e.target.value })} />
          <input
            aria-label={`Header ${i + 1} value`}
            placeholder={h.hidden ? '(hidden: type to replace)' : 'value'}
            type={h.secret ? 'password' : 'text'}
            autoComplete="off"
            value={h.value}
            onChange={(e) => update(i, { value: e.target.value })}
          />
          <label className="check">
            <input type="checkbox" checked={h.secret || alwaysSecret(h.name)} disabled={alwaysSecret(h.name)} onChange={(e) => update(i, { secret: e.target.checked })} /> secret
          </label>
          <button type="button" className="link danger" aria-label={`Remove header ${i + 1}`} onClick={() => onChange(headers.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...headers, { name: '', value: '', secret: false }])}>
        + Header
      </button>
      {headers.some((h) => h.hidden && h.value === '') && <small className="hint">Hidden values are kept as they are until every one is typed again.</small>}
      {error && (
        <small className="error" role="alert">
          {error}
        </small>
      )}
    </fieldset>
  );
}

function MergeTags({ fields }: { fields: Topic['fields'] }) {
  const tags = fields.filter((f) => f.mergeTag);
  if (tags.length === 0) return <>Liquid: {'{{ event.entityId }}'}, {'{{ data.status }}'}.</>;
  return <>Merge tags: {tags.map((f) => f.mergeTag).join(', ')}</>;
}

/** What the webhook would send for a sample event (follows the form), and the Test button. */
function Preview({ input, topics, webhookId, dirty, active }: { input: ReturnType<typeof toInput>; topics: Topic[]; webhookId?: string; dirty: boolean; active: boolean }) {
  const [topicKey, setTopicKey] = useState('');
  const topic = topics.find((t) => t.key === topicKey) ?? topics[0];
  const [action, setAction] = useState('created');
  const [entityId, setEntityId] = useState('');
  const [dataText, setDataText] = useState('');
  const [previousText, setPreviousText] = useState('');
  // The sample starts as what Test sends by itself: the tenant's latest real event of the topic, else one made
  // from its catalog (ids of the topic's kind). Once the person edits it, Test sends what they wrote.
  const [sampleSource, setSampleSource] = useState<{ kind: string; description: string } | null>(null);
  const [edited, setEdited] = useState(false);
  const TRIGGER_ACTIONS: Record<string, string[]> = { CREATE: ['created'], UPDATE: ['updated'], CREATE_OR_UPDATE: ['created', 'updated'], DELETE: ['deleted'] };
  const typesOfTopic = topic
    ? [
        ...(input.events ?? []).filter((t: string) => t.startsWith(`${topic.key}.`)),
        ...(input.triggers ?? []).filter((t) => t.topic === topic.key).flatMap((t) => (TRIGGER_ACTIONS[t.trigger] ?? []).map((a) => `${topic.key}.${a}`)),
      ]
    : [];
  const sampleTypes = JSON.stringify(typesOfTopic.length ? typesOfTopic : topic ? [`${topic.key}.*`] : []);
  useEffect(() => {
    if (!topic) return;
    let live = true;
    gql(`query($types: [String!]!) { testSample(eventTypes: $types) { kind description event { entityId data previous } } }`, { types: JSON.parse(sampleTypes) }).then(
      ({ testSample: s }) => {
        if (!live) return;
        setEntityId(s.event.entityId);
        setDataText(JSON.stringify(s.event.data ?? {}, null, 2));
        setPreviousText(s.event.previous ? JSON.stringify(s.event.previous, null, 2) : '');
        setSampleSource(s);
        setEdited(false);
      },
      () => live && (setDataText(JSON.stringify(topic.sampleData ?? {}, null, 2)), setEntityId('1'), setSampleSource(null)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [topic?.key, sampleTypes]);
  const parse = (text: string, name: string) => {
    if (text.trim() === '') return { value: undefined };
    try {
      return { value: JSON.parse(text) };
    } catch {
      return { problem: `${name} is not valid JSON` };
    }
  };
  const data = parse(dataText, 'Data');
  const previous = parse(previousText, 'Previous data');
  const event = topic ? { topic: topic.key, action, entityId, data: data.value, previous: previous.value } : undefined;
  const request = useDebounced(JSON.stringify({ event, input }), 300);
  const [preview, setPreview] = useState<any>();
  const [previewError, setPreviewError] = useState<unknown>();
  const [test, setTest] = useState<any>();
  const mayTest = useCan('OPERATE');
  const [testing, setTesting] = useState(false);

  useEffect(() => {
    const { event, input } = JSON.parse(request);
    if (!event || data.problem || previous.problem) return;
    let live = true;
    gql(
      `query($event: EventInput!, $webhook: CreateWebhookInput) { previewWebhookPayload(event: $event, webhook: $webhook) {
        wouldSend subscribed conditionsMatch reasons renderError method url body eventType exampleSecret orderedDelivery batchWindowMs headers { name value }
      } }`,
      { event, webhook: input },
    ).then(
      (d) => live && (setPreview(d.previewWebhookPayload), setPreviewError(undefined)),
      (err) => live && setPreviewError(err),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [request]);

  const runTest = async () => {
    setTesting(true);
    setTest(undefined);
    try {
      const saved = webhookId && !dirty;
      const d = await gql(
        `mutation($webhookId: ID, $webhook: CreateWebhookInput, $event: EventInput) { testWebhook(webhookId: $webhookId, webhook: $webhook, event: $event) {
          success statusCode durationMs message response errorKind sample { kind description }
        } }`,
        // Untouched, the sample is Herald's own (it says which it used); edited, it is the person's.
        saved ? { webhookId, event: edited ? event : undefined } : { webhook: input, event: edited ? event : undefined },
      );
      setTest(d.testWebhook);
    } catch (err) {
      setTest({ success: false, message: err instanceof Error ? err.message : String(err) });
    } finally {
      setTesting(false);
    }
  };

  return (
    <div className="preview" aria-label="Payload preview">
      <h2>Preview</h2>
      {topics.length === 0 && <p className="muted">Add a topic or event type to preview the payload.</p>}
      {topics.length > 0 && (
        <>
          <div className="row">
            <Field label="Sample topic">
              {(id) => (
                <select id={id} value={topic?.key} onChange={(e) => setTopicKey(e.target.value)}>
                  {topics.map((t) => (
                    <option key={t.key}>{t.key}</option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Action">
              {(id) => (
                <select id={id} value={action} onChange={(e) => setAction(e.target.value)}>
                  {(topic?.actions ?? []).map((a) => (
                    <option key={a}>{a}</option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Entity id">{(id) => <input id={id} value={entityId} onChange={(e) => (setEntityId(e.target.value), setEdited(true))} />}</Field>
          </div>
          {sampleSource && (
            <p className="muted" data-testid="sample-source">
              {edited ? 'Your own sample (edited from ' : 'Sample: '}
              {sampleSource.description}
              {edited ? ')' : ''}
            </p>
          )}
          <Field label="Sample data" error={data.problem} wide>
            {(id, d) => <textarea id={id} aria-describedby={d} className="mono" rows={5} value={dataText} onChange={(e) => (setDataText(e.target.value), setEdited(true))} />}
          </Field>
          <Field label="Previous data (optional)" error={previous.problem} wide>
            {(id, d) => <textarea id={id} aria-describedby={d} className="mono" rows={2} value={previousText} onChange={(e) => (setPreviousText(e.target.value), setEdited(true))} />}
          </Field>
          {previewError ? <ErrorBanner error={previewError} /> : null}
          {preview && (
            <div className="preview-result" data-testid="preview">
              <p className={preview.wouldSend ? 'ok' : 'warn'}>
                {preview.wouldSend
                  ? active
                    ? `Would send ${preview.eventType}`
                    : `Would send ${preview.eventType} once it is active: it is off, so it sends nothing now`
                  : `Would not send: ${preview.reasons.join('; ')}`}
              </p>
              {preview.renderError && <p className="error">{preview.renderError}</p>}
              {preview.url && (
                <p className="mono">
                  {preview.method} {preview.url}
                </p>
              )}
              <details>
                <summary>Headers{preview.exampleSecret ? ' (signed with an example secret)' : ''}</summary>
                <HeaderTable headers={preview.headers} />
              </details>
              <Json value={preview.body ?? ''} />
            </div>
          )}
        </>
      )}
      {mayTest && (
        <div className="actions">
          <button type="button" onClick={runTest} disabled={testing || !input.url}>
            {testing ? 'Testing…' : 'Test'}
          </button>
          <span className="muted">{webhookId && !dirty ? 'Sends one test request and logs it.' : 'Sends one test request with these unsaved settings.'}</span>
        </div>
      )}
      {test && (
        <div className={`test-result ${test.success ? 'ok' : 'warn'}`} role="status" data-testid="test-result">
          <p>
            <strong>{test.statusCode ?? test.errorKind ?? 'Error'}</strong> {test.durationMs !== undefined && <span>in {test.durationMs} ms</span>} — {test.message}
          </p>
          {test.sample && <p className="muted">Sent {test.sample.kind === 'GIVEN' ? 'your sample' : test.sample.description}.</p>}
          {test.response && <Json value={test.response} />}
        </div>
      )}
    </div>
  );
}

