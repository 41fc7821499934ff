import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import got, { type Response } from 'got';
import { BlockedAddressError, type AddressGuard } from '../../rules/addresses.ts';
import { failed, type Outcome } from '../../rules/outcome.ts';
import { safeText } from '../../rules/values.ts';
import { brokenOff, outcomeOf, RESPONSE_LIMIT, unanswered } from './answers.ts';
import type { OutgoingRequest } from './request.ts';

/** The one HTTP transport: no redirects followed, a bounded response, kept-alive connections, every address judged by the guard. */
export class Sender {
  private readonly agent = agents();
  /**
   * Herald's own inboxes get sockets of their own: the guard checks an address when a connection is made, so a
   * kept-alive socket opened unguarded for an inbox must never carry a guarded delivery to the same host and port.
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

  async send(request: OutgoingRequest, { timeoutMs, finalStatusCodes }: { timeoutMs: number; finalStatusCodes: readonly number[] }): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const own = isOwnInbox(request.url);
    const host = new URL(request.url).hostname.replace(/^\[|\]$/g, '');
    if (!own && (/^[\d.]+$/.test(host) || host.includes(':'))) {
      const refusal = this.guard.refusal(host);
      if (refusal) return failed('BLOCKED', refusal, elapsed());
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
        const outcome = outcomeOf(response, body, elapsed(), finalStatusCodes);
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
        resolve(unanswered(error, timeoutMs, elapsed()));
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
