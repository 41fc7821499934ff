import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';
import { fromRoot } from '../paths.ts';

/** Where `npm run build:web` puts the dashboard (web/ built by Vite). */
export const DASHBOARD_DIR = fromRoot('web', 'dist');

/**
 * Everything the page loads comes from this server; GraphQL over HTTP and WebSocket only
 * to it. No page may frame it, except a portal session's page, on its allowed origins.
 */
function securityHeaders(frameAncestors = "'none'"): Record<string, string> {
  return {
    'content-security-policy': `default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors ${frameAncestors}; base-uri 'none'; form-action 'self'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

/** Answers the dashboard's page for a portal session, which only `allowedOrigins` may frame. */
export function portalPage(res: ServerResponse, allowedOrigins: string[], dir = DASHBOARD_DIR): void {
  if (!existsSync(`${dir}/index.html`)) return notBuilt(res);
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...securityHeaders(allowedOrigins.join(' ')) });
  res.end(readFileSync(`${dir}/index.html`));
}

function notBuilt(res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('The dashboard is not built: run `npm run build:web` (npm install and npm start do it).\n');
}

/**
 * Serves the dashboard at `/` and its files under `/assets/`. Answers false for
 * any other request, which the caller then hands on (GraphQL, inboxes, health).
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
    if (pathname !== '/' && pathname !== '/index.html' && !pathname.startsWith('/assets/')) return false;
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
