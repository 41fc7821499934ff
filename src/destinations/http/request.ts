import herald from '../../../package.json' with { type: 'json' };
import type { RenderedPayload } from '../../rules/payload.ts';
import { signatureHeader } from '../../rules/signing.ts';
import type { StoredHeader } from '../../rules/webhookSettings.ts';
import type { ShownRequest, Signer } from '../destination.ts';

/** An HTTP request as Herald sends it, stores it and shows it: pure functions of the payload and the webhook. */

export const USER_AGENT = `Herald/${herald.version}`;

export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The request exactly as it goes out: Herald's headers (content type, user agent,
 * Standard Webhooks id, timestamp and signature) and then the webhook's own.
 */
export function buildRequest(payload: RenderedPayload, webhook: Signer, messageId: string, at: Date): OutgoingRequest {
  const timestamp = Math.floor(at.getTime() / 1000);
  const secrets = [webhook.secret];
  if (webhook.previousSecret && webhook.previousSecretUntil && webhook.previousSecretUntil > at) secrets.push(webhook.previousSecret);
  const headers: Record<string, string> = {};
  if (payload.contentType) headers['content-type'] = payload.contentType;
  headers['user-agent'] = USER_AGENT;
  headers['webhook-id'] = messageId;
  headers['webhook-timestamp'] = String(timestamp);
  headers['webhook-signature'] = signatureHeader(secrets, messageId, timestamp, signedContent(payload.method, payload.url, payload.body));
  for (const header of webhook.headers) headers[header.name.toLowerCase()] = header.value;
  return { method: payload.method, url: payload.url, headers, body: payload.body };
}

/**
 * What the signature covers: the body, or for a GET (which has none and carries its
 * payload in the URL) the query string exactly as sent, after the `?`. A receiver
 * verifies a GET by passing that raw query string where a library expects the body.
 */
export function signedContent(method: string, url: string, body: string): string {
  if (method !== 'GET') return body;
  const query = url.indexOf('?');
  return query < 0 ? '' : url.slice(query + 1).split('#')[0]!;
}

/** The same headers for showing to a person: secret header values hidden. */
function shownHeaders(request: OutgoingRequest, own: StoredHeader[]): Array<{ name: string; value: string }> {
  const secret = new Set(own.filter((h) => h.secret).map((h) => h.name.toLowerCase()));
  return Object.entries(request.headers).map(([name, value]) => ({ name, value: secret.has(name) ? '[secret]' : value }));
}

/** Headers an instance says itself: stored by name only (their value is its payload's content type, its id). */
const DERIVED = new Set(['content-type', 'webhook-id']);

/**
 * The request as an instance keeps it: headers in order, `[name, value]` as shown (secrets hidden), or `[name]` for those it says
 * itself (content type, webhook-id); method, URL and body are the payload's, stored once there (`shownRequest` puts them back).
 */
export function storedRequest(request: OutgoingRequest, own: StoredHeader[], payload: RenderedPayload, messageId: string): StoredRequest {
  const derived = (name: string, value: string) => DERIVED.has(name) && value === (name === 'webhook-id' ? messageId : payload.contentType);
  return { headers: shownHeaders(request, own).map(({ name, value }) => (derived(name, value) ? [name] : [name, value])) };
}

export interface StoredRequest {
  headers: Array<[string] | [string, string]>;
}

/** How requests were stored before (whole, headers as objects; the body too before it was kept once). */
interface EarlierStoredRequest {
  method: string;
  url: string;
  headers: Array<{ name: string; value: string }>;
  body?: string;
}

/** An instance's last request as shown: the stored request with what its payload and id say. */
export function shownRequest(stored: unknown, payload: unknown, instanceId: string): ShownRequest | null {
  if (!stored || typeof stored !== 'object') return null;
  const sent = (payload ?? {}) as Partial<RenderedPayload>;
  const body = typeof sent.body === 'string' ? sent.body : null;
  if ('url' in stored) {
    const earlier = stored as EarlierStoredRequest;
    return { method: earlier.method, url: earlier.url, headers: earlier.headers, body: earlier.body ?? body };
  }
  const said = (name: string) => (name === 'webhook-id' ? instanceId : (sent.contentType ?? ''));
  const headers = (stored as StoredRequest).headers.map(([name, value]) => ({ name, value: value ?? said(name) }));
  return { method: sent.method ?? '', url: sent.url ?? '', headers, body };
}
