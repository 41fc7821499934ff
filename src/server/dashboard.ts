import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';
import { fromRoot } from '../paths.ts';

/** Where `npm run build:web` puts the dashboard (web/ built by Vite). */
export const DASHBOARD_DIR = fromRoot('web', 'dist');

/**
 * Everything a page loads comes from this server (GraphiQL's editor has its fonts inline);
 * GraphQL over HTTP and WebSocket only to it. No page may frame it, except a portal
 * session's page, on its allowed origins.
 */
function securityHeaders(frameAncestors = "'none'", styles = "style-src 'self'"): Record<string, string> {
  return {
    'content-security-policy': `default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; font-src 'self' data:; ${styles}; script-src 'self'; worker-src 'self'; frame-ancestors ${frameAncestors}; base-uri 'none'; form-action 'self'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

/** Answers the dashboard's page for a portal session, which only `allowedOrigins` may frame. */
export function portalPage(res: ServerResponse, allowedOrigins: string[], dir = DASHBOARD_DIR): void {
  page(res, `${dir}/index.html`, { 'cache-control': 'no-store', ...securityHeaders(allowedOrigins.join(' ')) });
}

function page(res: ServerResponse, file: string, headers: Record<string, string>, fill = (html: string) => html): void {
  if (!existsSync(file)) return notBuilt(res);
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
  res.end(fill(readFileSync(file, 'utf8')));
}

/**
 * GraphiQL's page has the dashboard's policy but for styles, which its editor (Monaco) writes as it
 * runs: into <style> elements, which the page gives a nonce of this response only (web/src/graphiql.ts),
 * and into style attributes (line positions), which no nonce can cover. Scripts, connections and frames are as strict.
 */
function graphiqlPage(res: ServerResponse, dir: string): void {
  const nonce = randomBytes(18).toString('base64');
  const styles = `style-src 'self'; style-src-elem 'self' 'nonce-${nonce}'; style-src-attr 'unsafe-inline'`;
  page(res, `${dir}/graphiql.html`, { 'cache-control': 'no-store', ...securityHeaders("'none'", styles) }, (html) => html.replace('__STYLE_NONCE__', nonce));
}

/** A browser's visit to the GraphQL endpoint (a GET that takes HTML): GraphiQL, not an operation. */
const wantsGraphiQL = (req: IncomingMessage, pathname: string) => pathname === '/graphql' && (req.headers.accept ?? '').includes('text/html');

function notBuilt(res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('The dashboard is not built: run `npm run build:web` (npm install and npm start do it).\n');
}

/**
 * Serves the dashboard at `/` and its files under `/assets/`, and GraphiQL at `/graphql`
 * (to a browser) with its files under `/graphiql/`. Answers false for any other request,
 * which the caller then hands on (GraphQL, inboxes, health).
 */
export function dashboardHandler(dir = DASHBOARD_DIR) {
  const files = sirv(dir, {
    etag: true,
    dev: false,
    gzip: true, // the build writes .gz copies of the assets
    // Hashed asset names never change; the page itself is checked on every load.
    setHeaders: (res, pathname) => {
      res.setHeader('cache-control', pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      for (const [name, value] of Object.entries(securityHeaders())) res.setHeader(name, value);
    },
  });
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const pathname = (req.url ?? '/').split('?')[0]!;
    if (wantsGraphiQL(req, pathname)) {
      graphiqlPage(res, dir);
      return true;
    }
    if (pathname !== '/' && pathname !== '/index.html' && !pathname.startsWith('/assets/') && !pathname.startsWith('/graphiql/')) return false;
    if (!existsSync(`${dir}/index.html`)) {
      notBuilt(res);
      return true;
    }
    files(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
    });
    return true;
  };
}
