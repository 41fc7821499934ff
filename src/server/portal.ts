import type { IncomingMessage, ServerResponse } from 'node:http';
import { PORTAL_PATH, portalOfLink, redeemPortalLink } from '../usecases/portal.ts';
import { readBody } from './body.ts';
import { portalPage } from './dashboard.ts';

/**
 * A portal link, `/portal/<link>`. GET answers the dashboard's page, framed only by the
 * session's origins (and again on a reload, once used). The page then POSTs to the same
 * address, once, for the session's secret: a link checker that only GETs the link does
 * not use it up, the secret is in no address or log, and JSON asked for cross-origin needs
 * a preflight this server never grants, so no other page can read a secret.
 */
export async function servePortal(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const link = (req.url ?? '').split('?')[0]!.slice(PORTAL_PATH.length);
  const answer = (status: number, body: Record<string, unknown>) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  if (!/^[\w-]{1,64}$/.test(link)) return answer(404, { error: 'This portal link is not known.' });
  if (req.method === 'POST') {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return answer(415, { error: 'send Content-Type: application/json' });
    if ((await readBody(req, 1024)) === null) return answer(413, { error: 'the body must be empty or {}' });
    const redeemed = await redeemPortalLink(link);
    return 'secret' in redeemed ? answer(200, redeemed) : answer(redeemed.status, { error: redeemed.refused });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, { error: 'GET the page, POST to open the session' });
  const session = await portalOfLink(link);
  if (!session) return answer(404, { error: 'This portal link is not known.' });
  portalPage(res, session.allowedOrigins);
}
