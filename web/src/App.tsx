import { useEffect, useLayoutEffect, useRef, useState, type CSSProperties } from 'react';
import { loadMeta } from './meta.ts';
import { useRoute } from './routing.ts';
import { gql } from './api.ts';
import { ApiError } from './errors.ts';
import { onSignedOut, openPortal, portalLink, saveKey, savedKey } from './session.ts';
import { time } from './format.ts';
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

const SESSION_ENDED = 'This session has ended.';

export function App() {
  const portal = portalLink();
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [checking, setChecking] = useState(Boolean(savedKey()) || portal !== null);
  // Why the key was refused while signed in (revoked; a portal session that ended).
  const [ended, setEnded] = useState<string>();
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
    (async () => {
      if (portal) await openPortal(portal);
      if (!savedKey()) return;
      const { viewer } = await gql(VIEWER);
      await loadMeta();
      setViewer(viewer);
    })()
      .catch((error) => (portal ? setEnded(error instanceof Error ? error.message : String(error)) : saveKey(null)))
      .finally(() => setChecking(false));
    return onSignedOut((why) => {
      if (portal) return setEnded(SESSION_ENDED);
      saveKey(null);
      setEnded(why);
    });
  }, [portal]);
  // A portal session ends on time, whether anything is asked or not.
  useEffect(() => {
    const until = viewer?.portal && Date.parse(viewer.portal.expiresAt) - Date.now();
    if (until === undefined || until === null) return;
    const timer = setTimeout(() => setEnded(SESSION_ENDED), Math.max(0, until));
    return () => clearTimeout(timer);
  }, [viewer]);

  if (checking) return <p className="loading">{portal ? 'Opening…' : 'Checking the key…'}</p>;
  if (portal && (ended || !viewer)) return <Ended brand={viewer?.portal?.brandName} why={ended ?? SESSION_ENDED} />;
  if (!viewer || ended) {
    return (
      <SignIn
        notice={ended && `Signed out: ${ended}`}
        onSignedIn={(signedIn) => {
          setEnded(undefined);
          setViewer(signedIn);
        }}
      />
    );
  }

  const section = route.path[0] ?? 'webhooks';
  return (
    <ViewerContext.Provider value={viewer}>
    <div className="shell">
      <header ref={header} className={viewer.portal?.brandColor ? 'branded' : undefined} style={brandColours(viewer.portal?.brandColor)}>
        <a className="brand" href="#/webhooks">
          {viewer.portal ? (viewer.portal.brandName ?? 'Webhooks') : 'Herald'}
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
          {viewer.portal ? (
            <span className="until">until {time(viewer.portal.expiresAt)}</span>
          ) : (
            <button
              type="button"
              onClick={() => {
                saveKey(null);
                setViewer(null);
              }}
            >
              Sign out
            </button>
          )}
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

/** A portal that cannot be used: its link was used or expired, or its session ended. Nothing here signs in. */
function Ended({ brand, why }: { brand?: string | null; why: string }) {
  return (
    <main className="signin">
      {brand && <h1>{brand}</h1>}
      <p role="alert">{why}</p>
      <p className="muted">Open the webhook settings again from the page you came from.</p>
    </main>
  );
}

/** A vendor's colour for the portal's header, with black or white text, whichever reads better on it. */
function brandColours(color: string | null | undefined): CSSProperties | undefined {
  if (!color) return undefined;
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(color.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  // Contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05).
  const ink = 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? '#fff' : '#000';
  return { '--brand': color, '--brand-ink': ink } as CSSProperties;
}

function SignIn({ onSignedIn, notice }: { onSignedIn: (viewer: Viewer) => void; notice?: string }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  return (
    <main className="signin">
      <h1>Herald</h1>
      {notice && !error && <p role="status">{notice}</p>}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          saveKey(key.trim());
          try {
            const { viewer } = await gql(VIEWER);
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
