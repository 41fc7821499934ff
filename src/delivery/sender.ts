import http from 'node:http';
import https from 'node:https';
import got, { type Response } from 'got';
import { isOwnInbox, type AddressGuard } from './guard.ts';
import type { OutgoingRequest } from './request.ts';

export type ErrorKind =
  | 'HTTP_STATUS'
  | 'REDIRECT'
  | 'TIMEOUT'
  | 'CONNECTION_REFUSED'
  | 'CONNECTION_RESET'
  | 'DNS'
  | 'TLS'
  | 'BLOCKED'
  | 'BODY_TOO_LARGE'
  | 'NETWORK';

export interface Outcome {
  ok: boolean;
  statusCode: number | null;
  errorKind: ErrorKind | null;
  /** The receiver's answer (bounded) or what went wrong. */
  message: string;
  responseBody: string | null;
  location: string | null;
  retryAfter: string | undefined;
  durationMs: number;
}

export const RESPONSE_LIMIT = 4096;

/** The one HTTP sender: no redirects followed, a bounded response, kept-alive connections. */
export class Sender {
  private readonly agent = {
    http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
  };
  /** What every request shares, merged once (got merges per-request options onto these, which is most of its cost). */
  private readonly client = got.extend({ followRedirect: false, throwHttpErrors: false, retry: { limit: 0 }, agent: this.agent });
  /** The same, resolving names through the address guard (all but Herald's own inboxes). */
  private readonly guarded: typeof got;

  constructor(private readonly guard: AddressGuard) {
    this.guarded = this.client.extend({ dnsLookup: guard.lookup });
  }

  async send(request: OutgoingRequest, timeoutMs: number): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const own = isOwnInbox(request.url);
    const host = new URL(request.url).hostname.replace(/^\[|\]$/g, '');
    if (!own && (/^[\d.]+$/.test(host) || host.includes(':'))) {
      const refusal = this.guard.refusal(host);
      if (refusal) return failure('BLOCKED', refusal, elapsed());
    }
    return new Promise<Outcome>((resolve) => {
      let response: Response | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = () => {
        if (settled || !response) return;
        settled = true;
        const body = Buffer.concat(chunks).subarray(0, RESPONSE_LIMIT).toString('utf8');
        resolve(outcomeOf(response, body, elapsed()));
      };
      const stream = (own ? this.client : this.guarded).stream(request.url, {
        method: request.method as 'POST',
        headers: request.headers,
        body: request.method === 'GET' ? undefined : request.body,
        timeout: { request: timeoutMs },
      });
      stream.on('response', (r: Response) => (response = r));
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= RESPONSE_LIMIT) {
          finish();
          stream.destroy();
        }
      });
      stream.on('end', finish);
      stream.on('error', (error: Error & { code?: string }) => {
        if (response) return finish();
        if (settled) return;
        settled = true;
        resolve(failure(kindOf(error), messageOf(error, timeoutMs), elapsed()));
      });
    });
  }

  close(): void {
    this.agent.http.destroy();
    this.agent.https.destroy();
  }
}

function outcomeOf(response: Response, body: string, durationMs: number): Outcome {
  const status = response.statusCode;
  const ok = status >= 200 && status < 300;
  const location = typeof response.headers.location === 'string' ? response.headers.location : null;
  const retryAfter = typeof response.headers['retry-after'] === 'string' ? response.headers['retry-after'] : undefined;
  const errorKind: ErrorKind | null = ok ? null : status >= 300 && status < 400 ? 'REDIRECT' : status === 413 ? 'BODY_TOO_LARGE' : 'HTTP_STATUS';
  const text = body.trim() || response.statusMessage || '';
  const message = errorKind === 'REDIRECT' ? `redirect to ${location ?? '(no Location)'} not followed` : `${status}${text ? ` ${text}` : ''}`;
  return { ok, statusCode: status, errorKind, message: message.slice(0, RESPONSE_LIMIT), responseBody: body, location, retryAfter, durationMs };
}

function failure(errorKind: ErrorKind, message: string, durationMs: number): Outcome {
  return { ok: false, statusCode: null, errorKind, message, responseBody: null, location: null, retryAfter: undefined, durationMs };
}

function kindOf(error: Error & { code?: string }): ErrorKind {
  const code = error.code ?? '';
  if (code === 'EBLOCKED' || error.name === 'BlockedAddressError') return 'BLOCKED';
  if (code === 'ETIMEDOUT' || error.name === 'TimeoutError') return 'TIMEOUT';
  if (code === 'ECONNREFUSED') return 'CONNECTION_REFUSED';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'CONNECTION_RESET';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'DNS';
  if (/CERT|TLS|SSL|EPROTO|SELF_SIGNED/.test(code)) return 'TLS';
  return 'NETWORK';
}

function messageOf(error: Error & { code?: string }, timeoutMs: number): string {
  if (kindOf(error) === 'TIMEOUT') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: Error }).cause;
  if (cause?.name === 'BlockedAddressError') return cause.message;
  return error.message;
}

let shared: Sender | undefined;

/** The process's sender (one pool of kept-alive connections), made on first use. */
export function sharedSender(guard: AddressGuard): Sender {
  shared ??= new Sender(guard);
  return shared;
}

export function closeSharedSender(): void {
  shared?.close();
  shared = undefined;
}
