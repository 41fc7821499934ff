import herald from '../../package.json' with { type: 'json' };
import type { RenderedPayload } from './payload.ts';
import { signatureHeader } from './signing.ts';
import { type StoredHeader } from './webhookSettings.ts';

export const USER_AGENT = `Herald/${herald.version}`;

export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Signer {
  headers: StoredHeader[];
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
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
export function shownHeaders(request: OutgoingRequest, own: StoredHeader[]): Array<{ name: string; value: string }> {
  const secret = new Set(own.filter((h) => h.secret).map((h) => h.name.toLowerCase()));
  return Object.entries(request.headers).map(([name, value]) => ({ name, value: secret.has(name) ? '[secret]' : value }));
}

/**
 * The request as an instance keeps it: method, url and the headers shown to a person.
 * Not the body: it is always the instance's payload body (what is signed and sent), so
 * it is stored once, in the payload; `shownRequest` puts it back.
 */
export function storedRequest(request: OutgoingRequest, own: StoredHeader[]): StoredRequest {
  return { method: request.method, url: request.url, headers: shownHeaders(request, own) };
}

export interface StoredRequest {
  method: string;
  url: string;
  headers: Array<{ name: string; value: string }>;
  /** Only in instances recorded before the body was kept once (in the payload). */
  body?: string;
}

/** An instance's last request as shown: the stored request with its body from the payload. */
export function shownRequest(stored: unknown, payload: unknown): (Omit<StoredRequest, 'body'> & { body: string | null }) | null {
  if (!stored || typeof stored !== 'object') return null;
  const request = stored as StoredRequest;
  const body = request.body ?? (payload as { body?: unknown } | null)?.body;
  return { ...request, body: typeof body === 'string' ? body : null };
}
