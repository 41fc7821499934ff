import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import got, { type Response } from 'got';
import { BlockedAddressError, type AddressGuard } from '../rules/addresses.ts';
import type { ErrorKind, Outcome } from '../rules/outcome.ts';
import type { OutgoingRequest } from '../rules/request.ts';
import { safeString, safeText } from '../rules/values.ts';

export const RESPONSE_LIMIT = 4096;

/** The one HTTP sender: no redirects followed, a bounded response, kept-alive connections. */
export class Sender {
  private readonly agent = agents();
  /**
   * Herald's own inboxes get sockets of their own: the guard checks an address when a
   * connection is made, so a kept-alive socket opened unguarded for an inbox must never
   * carry a guarded delivery to the same host and port.
   */
  private readonly inboxAgent = agents();
  /** What every request shares, merged once (got merges per-request options onto these, which is most of its cost). */
  private readonly options = { followRedirect: false, throwHttpErrors: false, retry: { limit: 0 } } as const;
  /** Resolving names through the address guard: every delivery but those to Herald's own inboxes. */
  private readonly guarded: typeof got;
  private readonly inboxes = got.extend({ ...this.options, agent: this.inboxAgent });

  constructor(private readonly guard: AddressGuard) {
    this.guarded = got.extend({ ...this.options, agent: this.agent, dnsLookup: guardedLookup(guard) });
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
      /** The answer as it came: whole, or its first RESPONSE_LIMIT bytes; `broken` when it stopped short. */
      const finish = (broken?: Error & { code?: string }) => {
        if (settled || !response) return;
        settled = true;
        const body = safeText(Buffer.concat(chunks).subarray(0, RESPONSE_LIMIT));
        const outcome = outcomeOf(response, body, elapsed());
        resolve(broken ? brokenOff(outcome, broken, timeoutMs) : outcome);
      };
      const stream = (own ? this.inboxes : this.guarded).stream(request.url, {
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
      stream.on('end', () => finish());
      stream.on('error', (error: Error & { code?: string }) => {
        if (response) return finish(error);
        if (settled) return;
        settled = true;
        resolve(failure(kindOf(error), messageOf(error, timeoutMs), elapsed()));
      });
    });
  }

  close(): void {
    for (const agent of [this.agent, this.inboxAgent]) {
      agent.http.destroy();
      agent.https.destroy();
    }
  }
}

function agents() {
  return { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) };
}

function outcomeOf(response: Response, body: string, durationMs: number): Outcome {
  const status = response.statusCode;
  const ok = status >= 200 && status < 300;
  const location = typeof response.headers.location === 'string' ? safeString(response.headers.location) : null;
  const retryAfter = typeof response.headers['retry-after'] === 'string' ? response.headers['retry-after'] : undefined;
  const errorKind: ErrorKind | null = ok ? null : status >= 300 && status < 400 ? 'REDIRECT' : status === 413 ? 'BODY_TOO_LARGE' : 'HTTP_STATUS';
  const text = body.trim() || safeString(response.statusMessage ?? '');
  const message = errorKind === 'REDIRECT' ? `redirect to ${location ?? '(no Location)'} not followed` : `${status}${text ? ` ${text}` : ''}`;
  return { ok, statusCode: status, errorKind, message: message.slice(0, RESPONSE_LIMIT), responseBody: body, location, retryAfter, durationMs };
}

function failure(errorKind: ErrorKind, message: string, durationMs: number): Outcome {
  return { ok: false, statusCode: null, errorKind, message: safeString(message), responseBody: null, location: null, retryAfter: undefined, durationMs };
}

/**
 * An answer whose status came but whose body stopped short (reset, timed out): not a
 * delivery, whatever its status, since the receiver may not have finished; it is tried again.
 */
function brokenOff(outcome: Outcome, error: Error & { code?: string }, timeoutMs: number): Outcome {
  const kind = kindOf(error);
  const errorKind = kind === 'TIMEOUT' ? 'TIMEOUT' : kind === 'INVALID_RESPONSE' ? 'INVALID_RESPONSE' : 'CONNECTION_RESET';
  const how = errorKind === 'TIMEOUT' ? `did not finish within ${timeoutMs} ms` : errorKind === 'INVALID_RESPONSE' ? 'was not valid HTTP' : 'was cut off (the connection was reset)';
  return { ...outcome, ok: false, errorKind, message: `${outcome.statusCode} answered, but the answer ${how}`.slice(0, RESPONSE_LIMIT) };
}

function kindOf(error: Error & { code?: string }): ErrorKind {
  const code = error.code ?? '';
  if (code === 'EBLOCKED' || error.name === 'BlockedAddressError') return 'BLOCKED';
  if (code === 'ETIMEDOUT' || error.name === 'TimeoutError') return 'TIMEOUT';
  if (code === 'ECONNREFUSED') return 'CONNECTION_REFUSED';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'CONNECTION_RESET';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'DNS';
  if (/CERT|TLS|SSL|EPROTO|SELF_SIGNED/.test(code)) return 'TLS';
  if (code.startsWith('HPE_')) return 'INVALID_RESPONSE';
  return 'NETWORK';
}

function messageOf(error: Error & { code?: string }, timeoutMs: number): string {
  if (kindOf(error) === 'TIMEOUT') return `no answer within ${timeoutMs} ms`;
  if (kindOf(error) === 'INVALID_RESPONSE') return `the answer is not valid HTTP (${error.code}: ${error.message})`;
  const cause = (error as { cause?: Error }).cause;
  if (cause?.name === 'BlockedAddressError') return cause.message;
  return error.message;
}

/** A dns.lookup for got that refuses blocked addresses after resolving. */
function guardedLookup(guard: AddressGuard): typeof dns.lookup {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: any[]) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error);
      const list = addresses as dns.LookupAddress[];
      const blocked = list.map((a) => guard.refusal(a.address)).find((r) => r !== null);
      if (blocked) return callback(new BlockedAddressError(blocked));
      if (options.all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  }) as unknown as typeof dns.lookup;
}

let selfInbox: string | undefined;

/** Herald's own inbox URLs (`<origin>/inbox/`) may be delivered to without opening the allow-list. */
export function allowOwnInboxes(origin: string): void {
  selfInbox = `${origin}/inbox/`;
}

export function isOwnInbox(url: string): boolean {
  return selfInbox !== undefined && url.startsWith(selfInbox);
}

let shared: Sender | undefined;

/** Opens the process's sender (one pool of kept-alive connections) with the guard of the outbound allow-list; the app does, once. */
export function openSender(guard: AddressGuard): void {
  shared?.close();
  shared = new Sender(guard);
}

/** The process's sender. */
export function sender(): Sender {
  if (!shared) throw new Error('the sender is not open yet');
  return shared;
}

export function closeSender(): void {
  shared?.close();
  shared = undefined;
}
