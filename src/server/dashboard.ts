import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';
import { fromRoot } from '../paths.ts';

/** Where `npm run build:web` puts the dashboard (web/ built by Vite). */
export const DASHBOARD_DIR = fromRoot('web', 'dist');

const SECURITY_HEADERS = {
  // Everything the page loads comes from this server; GraphQL over HTTP and WebSocket only to it.
  'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

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
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    },
  });
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const pathname = (req.url ?? '/').split('?')[0]!;
    if (pathname !== '/' && pathname !== '/index.html' && !pathname.startsWith('/assets/')) return false;
    if (!existsSync(`${dir}/index.html`)) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The dashboard is not built: run `npm run build:web` (npm install and npm start do it).\n');
      return true;
    }
    files(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
    });
    return true;
  };
}
