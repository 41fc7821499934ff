import type { IncomingMessage, ServerResponse } from 'node:http';
import { PORTAL_PATH, portalOfLink, redeemPortalLink } from '../usecases/portal.ts';
import { readBody } from './body.ts';
import { portalPage } from './dashboard.ts';

/**
 * A portal link: GET answers the page (framed only by the session's origins); the page POSTs once for the secret, so a link checker
 * that only GETs does not use it up, and no address, log or other origin (no preflight is granted) sees the secret.
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
