import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { loadMeta } from './meta.ts';
import { useRoute } from './routing.ts';
import { gql, saveKey, savedKey, ApiError } from './api.ts';
import { Field, ErrorBanner } from './ui.tsx';
import { WebhookList } from './WebhookList.tsx';
import { WebhookForm } from './WebhookForm.tsx';
import { Deliveries } from './Deliveries.tsx';
import { Topics } from './Topics.tsx';
import { Inspector } from './Inspector.tsx';
import { ApiKeys } from './ApiKeys.tsx';
import { Overview } from './Overview.tsx';
import { Events } from './Events.tsx';
import { Configuration } from './Configuration.tsx';
import { VIEWER_QUERY as VIEWER, ViewerContext, type Viewer } from './viewer.ts';

const SECTIONS = [
  ['overview', 'Overview'],
  ['webhooks', 'Webhooks'],
  ['deliveries', 'Deliveries'],
  ['events', 'Events'],
  ['topics', 'Topics'],
  ['inspector', 'Inspector'],
  ['copy', 'Copy set-up'],
  ['keys', 'API keys'],
] as const;

export function App() {
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [checking, setChecking] = useState(Boolean(savedKey()));
  const route = useRoute();
  // The header's height, for what opens below it (the drawer).
  const header = useRef<HTMLElement>(null);
  useLayoutEffect(() => {
    const element = header.current;
    if (!element) return;
    const observer = new ResizeObserver(() => document.documentElement.style.setProperty('--header', `${element.offsetHeight}px`));
    observer.observe(element);
    return () => observer.disconnect();
  }, [viewer]);

  useEffect(() => {
    if (!savedKey()) return;
    gql<{ viewer: Viewer }>(VIEWER)
      .then(async ({ viewer }) => {
        await loadMeta();
        setViewer(viewer);
      })
      .catch(() => saveKey(null))
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p className="loading">Checking the key…</p>;
  if (!viewer) return <SignIn onSignedIn={setViewer} />;

  const section = route.path[0] ?? 'webhooks';
  return (
    <ViewerContext.Provider value={viewer}>
    <div className="shell">
      <header ref={header}>
        <a className="brand" href="#/webhooks">
          Herald
        </a>
        <nav aria-label="Sections">
          {SECTIONS.filter(([key]) => key !== 'keys' || viewer.permissions.includes('ADMIN')).map(([key, label]) => (
            <a key={key} href={`#/${key}`} aria-current={section === key ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div className="who">
          <span>
            {viewer.tenant?.name ?? 'operator'} · {viewer.role ?? 'OPERATOR'}
          </span>
          {viewer.tenant && <span className={`env env-${viewer.tenant.environment.toLowerCase()}`}>{viewer.tenant.environment}</span>}
          <button
            type="button"
            onClick={() => {
              saveKey(null);
              setViewer(null);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main>
        {section === 'overview' && <Overview />}
        {section === 'webhooks' && route.path[1] === undefined && <WebhookList />}
        {section === 'webhooks' && route.path[1] !== undefined && <WebhookForm key={route.path[1]} id={route.path[1] === 'new' ? undefined : route.path[1]} />}
        {section === 'deliveries' && <Deliveries query={route.query} />}
        {section === 'events' && <Events query={route.query} />}
        {section === 'topics' && <Topics />}
        {section === 'inspector' && <Inspector open={route.path[1]} />}
        {section === 'copy' && <Configuration />}
        {section === 'keys' && <ApiKeys ownKeyPrefix={viewer.apiKey?.prefix} />}
      </main>
    </div>
    </ViewerContext.Provider>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (viewer: Viewer) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  return (
    <main className="signin">
      <h1>Herald</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          saveKey(key.trim());
          try {
            const { viewer } = await gql<{ viewer: Viewer }>(VIEWER);
            await loadMeta();
            onSignedIn(viewer);
          } catch (err) {
            saveKey(null);
            setError(err instanceof ApiError && err.code === 'UNAUTHENTICATED' ? new Error(`That key was refused: ${err.message}`) : err);
          }
        }}
      >
        <Field label="API key" hint="Kept in this browser tab only, until it closes." error={error instanceof Error ? error.message : undefined}>
          {(id, describedBy) => (
            <input id={id} aria-describedby={describedBy} type="password" autoComplete="off" required value={key} onChange={(e) => setKey(e.target.value)} placeholder="hk_…" autoFocus />
          )}
        </Field>
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
      <ErrorBanner error={error instanceof Error ? undefined : error} />
    </main>
  );
}
