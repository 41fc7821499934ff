// Create or edit a webhook: label → topic and trigger → conditions → endpoint →
// method → data, with a payload preview that follows the form and a Test button.
import { useEffect, useMemo, useRef, useState } from 'react';
import { gql } from './api.ts';
import { go } from './routing.ts';
import { loadTopics, topicKeysOf } from './catalog.ts';
import { ConditionsBuilder, rekey } from './Conditions.tsx';
import { WebhookHealth } from './WebhookHealth.tsx';
import { DeliveryCharts } from './Charts.tsx';
import { time } from './format.ts';
import { useLoad } from './hooks.ts';
import { ErrorBanner, Field, SecretOnce, errorFor, fieldErrors, unclaimed } from './ui.tsx';
import { useCan, useNotAllowed } from './viewer.ts';
import { clearDraft, readDraft, saveDraft, type Draft } from './drafts.ts';
import { ALERT_PRESETS } from './alertPresets.ts';
import { Headers, MergeTags, NumberField, Triggers } from './WebhookFormParts.tsx';
import { WebhookPreview } from './WebhookPreview.tsx';
import { CREATE, EMPTY, FIELDS, fromWebhook, ROTATE, toInput, UPDATE, WEBHOOK, type Form, type Header, type Method, type PayloadMode, type TemplateFormat } from './webhookModel.ts';

const METHODS: Method[] = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];
const MODES: [PayloadMode, string][] = [
  ['FULL', 'Everything: the envelope and all data'],
  ['ID_ONLY', 'Only the id (the envelope)'],
  ['ID_AND_MODIFIED_FIELDS', 'The id and the fields that changed'],
  ['SELECTED_FIELDS', 'The id and chosen fields'],
  ['CHANGES', 'Changes list (Springest style)'],
  ['CUSTOM', 'A template of my own'],
];

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
        await gql(UPDATE, { id, input });
        clearDraft(draftKey);
        setRestored(null);
        setDirty(false);
        setNotice('Saved.');
        saved.reload();
      } else {
        const data = await gql(CREATE, { input });
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
      const data = await gql(ROTATE, { id: id! });
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
        <h1 id="form-title">{id ? `Webhook: ${saved.data?.label}` : 'New webhook'}</h1>
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
                  <select id={fid} value={form.method} onChange={(e) => set('method', e.target.value as Method)}>
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
                  <select id={fid} value={form.payloadMode} onChange={(e) => set('payloadMode', e.target.value as PayloadMode)}>
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
                      <select id={fid} value={form.templateFormat} onChange={(e) => set('templateFormat', e.target.value as TemplateFormat)}>
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
            <WebhookPreview input={input} topics={chosenTopics} webhookId={id} dirty={dirty || !id} active={form.active} />
          </aside>
        </div>
      </form>
      <SecretOnce title="Signing secret" secret={secret} testId="secret" onClose={() => setSecret(undefined)}>
        Receivers check the <code>webhook-signature</code> header with it.
      </SecretOnce>
    </section>
  );
}
