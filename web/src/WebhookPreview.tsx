// What a webhook would send for a sample event (it follows the form, saved or not), and the Test button.
import { useEffect, useState } from 'react';
import { gql } from './api.ts';
import type { Topic } from './catalog.ts';
import { graphql, type ResultOf } from './graphql.ts';
import { useDebounced } from './hooks.ts';
import { ErrorBanner, Field, HeaderTable, Json } from './ui.tsx';
import { useCan } from './viewer.ts';
import type { WebhookInput } from './webhookModel.ts';

const SAMPLE = graphql(`query($types: [String!]!) { testSample(eventTypes: $types) { kind description event { entityId data previous } } }`);
const PREVIEW = graphql(`query($event: EventInput!, $webhook: CreateWebhookInput) { previewWebhookPayload(event: $event, webhook: $webhook) {
  wouldSend subscribed conditionsMatch reasons renderError method url body eventType exampleSecret orderedDelivery batchWindowMs headers { name value }
} }`);
const TEST = graphql(`mutation($webhookId: ID, $webhook: CreateWebhookInput, $event: EventInput) { testWebhook(webhookId: $webhookId, webhook: $webhook, event: $event) {
  success statusCode durationMs message response errorKind sample { kind description }
} }`);
type Preview = ResultOf<typeof PREVIEW>['previewWebhookPayload'];
/** A Test's result, or what stopped it (only a message). */
type Tested = ResultOf<typeof TEST>['testWebhook'] | { success: false; message: string; statusCode?: undefined; errorKind?: undefined; durationMs?: undefined; sample?: undefined; response?: undefined };

export function WebhookPreview({ input, topics, webhookId, dirty, active }: { input: WebhookInput; topics: Topic[]; webhookId?: string; dirty: boolean; active: boolean }) {
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
    const fromCatalog = () => live && (setDataText(JSON.stringify(topic.sampleData ?? {}, null, 2)), setEntityId('1'), setSampleSource(null));
    gql(SAMPLE, { types: JSON.parse(sampleTypes) as string[] }).then(({ testSample: s }) => {
      if (!live) return;
      if (!s.event) return fromCatalog();
      setEntityId(s.event.entityId);
      setDataText(JSON.stringify(s.event.data ?? {}, null, 2));
      setPreviousText(s.event.previous ? JSON.stringify(s.event.previous, null, 2) : '');
      setSampleSource(s);
      setEdited(false);
    }, fromCatalog);
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
  const [preview, setPreview] = useState<Preview>();
  const [previewError, setPreviewError] = useState<unknown>();
  const [test, setTest] = useState<Tested>();
  const mayTest = useCan('OPERATE');
  const [testing, setTesting] = useState(false);

  useEffect(() => {
    const { event, input } = JSON.parse(request);
    if (!event || data.problem || previous.problem) return;
    let live = true;
    gql(PREVIEW, { event, webhook: input }).then(
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
        TEST,
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
