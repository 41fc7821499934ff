// Moving a set-up between tenants: download this tenant's topics and webhooks as a
// document (no secrets), import one (a dry run lists what would change first), or copy
// this sandbox's set-up straight into production with the production tenant's key.
import { useContext, useState } from 'react';
import { gql } from './api.ts';
import { ApiError } from './errors.ts';
import { graphql, type ResultOf } from './graphql.ts';
import { ErrorBanner, Field } from './ui.tsx';
import { useCan, ViewerContext } from './viewer.ts';

const IMPORT = graphql(`mutation($d: JSON!, $dry: Boolean) { importConfiguration(document: $d, dryRun: $dry) { dryRun changes { kind name action fields notes } secrets { label secret } } }`);
type Plan = ResultOf<typeof IMPORT>['importConfiguration'];
const EXPORT = graphql(`{ exportConfiguration }`);

export function Configuration() {
  const viewer = useContext(ViewerContext);
  const mayManage = useCan('MANAGE');
  const [error, setError] = useState<unknown>();
  const [text, setText] = useState('');
  const [target, setTarget] = useState<{ key?: string; document: unknown } | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [productionKey, setProductionKey] = useState('');

  const download = async () => {
    setError(undefined);
    try {
      const { exportConfiguration } = await gql(EXPORT);
      const blob = new Blob([JSON.stringify(exportConfiguration, null, 2)], { type: 'application/json' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `herald-${(viewer?.tenant?.name ?? 'tenant').replace(/[^A-Za-z0-9_-]+/g, '-')}.json`;
      a.click();
      URL.revokeObjectURL(a.href);
    } catch (err) {
      setError(err);
    }
  };
  const dryRun = async (document: unknown, key?: string) => {
    setError(undefined);
    setPlan(null);
    try {
      const { importConfiguration } = await gql(IMPORT, { d: document, dry: true }, key);
      setTarget({ key, document });
      setPlan(importConfiguration);
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'UNAUTHENTICATED' ? new Error(`The production key was refused: ${err.message}`) : err);
    }
  };
  const apply = async () => {
    if (!target) return;
    try {
      const { importConfiguration } = await gql(IMPORT, { d: target.document, dry: false }, target.key);
      setPlan(importConfiguration);
      setTarget(null);
    } catch (err) {
      setError(err);
    }
  };
  const fromText = () => {
    try {
      return JSON.parse(text);
    } catch {
      setError(new Error('That is not JSON: paste the whole document a download gave, or choose its file.'));
      return undefined;
    }
  };
  const changing = plan?.changes.filter((c) => c.action !== 'UNCHANGED').length ?? 0;

  return (
    <section aria-labelledby="configuration-title">
      <div className="toolbar">
        <h1 id="configuration-title">Copy set-up</h1>
      </div>
      <p className="muted">Topics and webhooks as a document, to set up another tenant the same way. Signing secrets and secret header values are never in it.</p>
      <div className="actions">
        <button type="button" onClick={download}>
          Download this tenant's set-up
        </button>
      </div>
      {mayManage && viewer?.tenant?.environment === 'SANDBOX' && (
        <form
          className="card"
          aria-label="Copy to production"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              const { exportConfiguration } = await gql(EXPORT);
              await dryRun(exportConfiguration, productionKey.trim());
            } catch (err) {
              setError(err);
            }
          }}
        >
          <h2>Copy to production</h2>
          <Field label="Production API key" hint="an ADMIN or DEVELOPER key of the production tenant; used for this copy only, not kept">
            {(id, d) => <input id={id} aria-describedby={d} type="password" autoComplete="off" value={productionKey} onChange={(e) => setProductionKey(e.target.value)} placeholder="hk_…" />}
          </Field>
          <button type="submit" className="primary" disabled={!productionKey.trim()}>
            Show what it would change
          </button>
        </form>
      )}
      {mayManage && (
        <form
          className="card"
          aria-label="Import a set-up"
          onSubmit={(e) => {
            e.preventDefault();
            const document = fromText();
            if (document !== undefined) dryRun(document);
          }}
        >
          <h2>Import into this tenant</h2>
          <Field label="Document" wide hint={<>paste it, or <input type="file" accept="application/json,.json" aria-label="Choose a document file" onChange={async (e) => setText((await e.target.files?.[0]?.text()) ?? '')} /></>}>
            {(id, d) => <textarea id={id} aria-describedby={d} className="mono" rows={6} value={text} onChange={(e) => setText(e.target.value)} placeholder='{ "format": "herald.configuration/1", … }' />}
          </Field>
          <button type="submit" className="primary" disabled={!text.trim()}>
            Show what it would change
          </button>
        </form>
      )}
      <ErrorBanner error={error} />
      {plan && (
        <div className="card" aria-label="Import plan">
          <h2>{plan.dryRun ? `It would change ${changing} of ${plan.changes.length}${target?.key ? ' in production' : ''}` : 'Done'}</h2>
          <table className="grid">
            <thead>
              <tr>
                <th>What</th>
                <th>Name</th>
                <th>{plan.dryRun ? 'Would' : 'Did'}</th>
                <th>Notes</th>
              </tr>
            </thead>
            <tbody>
              {plan.changes.map((c) => (
                <tr key={`${c.kind}:${c.name}`} data-change={c.action}>
                  <td data-label="What">{c.kind === 'TOPIC' ? 'Topic' : 'Webhook'}</td>
                  <td data-label="Name">{c.name}</td>
                  <td data-label={plan.dryRun ? 'Would' : 'Did'}>
                    {c.action === 'CREATE' ? 'create' : c.action === 'UPDATE' ? `change ${c.fields.join(', ')}` : 'nothing (the same)'}
                  </td>
                  <td data-label="Notes">{c.notes.join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {plan.dryRun && changing > 0 && (
            <div className="actions">
              <button type="button" className="primary" onClick={apply}>
                Apply {changing} {changing === 1 ? 'change' : 'changes'}
              </button>
              <button type="button" onClick={() => (setPlan(null), setTarget(null))}>
                Cancel
              </button>
            </div>
          )}
          {plan.secrets.length > 0 && (
            <>
              <h3>Signing secrets of the new webhooks (shown this once)</h3>
              <table className="kv">
                <tbody>
                  {plan.secrets.map((s) => (
                    <tr key={s.label}>
                      <th>{s.label}</th>
                      <td>
                        <code data-testid="imported-secret">{s.secret}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </div>
      )}
    </section>
  );
}
