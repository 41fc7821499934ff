import type { IncomingMessage, ServerResponse } from 'node:http';
import { safeText } from '../rules/values.ts';
import { capture, INBOX_LIMITS } from '../usecases/inboxes.ts';
import { readBody } from './body.ts';

/** The request inspector's capture endpoint: `/inbox/<token>[/anything]`, any method. */
export async function receiveInInbox(req: IncomingMessage, res: ServerResponse, maxRequestBytes: number): Promise<void> {
  const whole = await readBody(req, maxRequestBytes);
  if (whole === null) {
    res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ error: `request body over ${maxRequestBytes} bytes` }));
    return;
  }
  const [, , token = '', ...rest] = (req.url ?? '').split('?')[0]!.split('/');
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
  const body = safeText(whole.subarray(0, INBOX_LIMITS.bodyBytes));
  const result = await capture(token, { method: req.method ?? 'GET', path: `/${rest.join('/')}${req.url?.includes('?') ? `?${req.url.split('?')[1]}` : ''}`, headers, body, truncated: whole.length > INBOX_LIMITS.bodyBytes });
  res.writeHead(result?.status ?? 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result ? { captured: true } : { error: 'no such inbox, or it has expired' }));
}
