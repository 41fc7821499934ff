import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import type { Yoga } from '../graphql/yoga.ts';
import { serveMetrics } from '../telemetry/metrics.ts';
import { withIncomingContext } from '../telemetry/tracing.ts';
import { PORTAL_PATH } from '../usecases/portal.ts';
import { readBody } from './body.ts';
import { dashboardHandler } from './dashboard.ts';
import { receiveInInbox } from './inboxCapture.ts';
import { servePortal } from './portal.ts';
import type { Readiness } from './readiness.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * What each path serves (`/readyz`, `/healthz`, `/metrics`, inboxes, portal links, the dashboard, GraphQL; a worker only the first
 * three); bodies are counted as they arrive, so a chunked one is held to the limit as a declared one is.
 */
export function routes(config: Config, yoga: Yoga, readiness: () => Promise<Readiness>, stopping: () => boolean): Handler {
  const dashboard = dashboardHandler();
  return async (req, res) => {
    if (req.url === '/readyz') {
      const state = await readiness();
      res.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state));
      return;
    }
    if (config.metrics.port === undefined && (await serveMetrics(req, res, config.metrics))) return;
    if (config.role === 'worker') {
      const alive = req.url === '/healthz';
      res.writeHead(alive ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(alive ? { status: 'ok' } : { error: 'this process runs with HERALD_ROLE=worker: it delivers and serves only /healthz, /readyz and /metrics' }));
      return;
    }
    if (req.url?.startsWith('/inbox/')) {
      await receiveInInbox(req, res, config.maxRequestBytes);
      return;
    }
    if (req.url?.startsWith(PORTAL_PATH)) {
      await servePortal(req, res);
      return;
    }
    if (dashboard(req, res)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const body = Number(req.headers['content-length'] ?? 0) > config.maxRequestBytes ? null : await readBody(req, config.maxRequestBytes);
      if (body === null) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ errors: [{ message: `request body over ${config.maxRequestBytes} bytes (HERALD_MAX_REQUEST_BYTES)`, extensions: { code: 'BAD_USER_INPUT' } }] }));
        return;
      }
      (req as IncomingMessage & { body?: Buffer }).body = body;
    }
    if (stopping()) res.setHeader('connection', 'close');
    // A caller's traceparent: the publish it asks for continues its trace.
    await withIncomingContext(req.headers, () => yoga.requestListener(req, res));
  };
}
