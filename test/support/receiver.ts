import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** What to answer; `hold`: not until `release()` is called (a receiver that takes as long as the test wants). */
type Reply = (req: Received, index: number) => { status?: number; body?: string; headers?: Record<string, string>; delayMs?: number; hold?: boolean };

/** A real HTTP receiver on loopback that records every request and answers as told. */
export class Receiver {
  readonly received: Received[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private server!: Server;
  /** Answers held back until release(). */
  private held: Array<() => void> = [];
  private releasing = false;
  url = '';
  reply: Reply = () => ({ status: 200, body: 'ok' });

  static start(reply?: Reply): Promise<Receiver> {
    return Receiver.startOn(0, reply);
  }

  /** A receiver on a given port (to bring one back where it was). */
  static async startOn(port: number, reply?: Reply): Promise<Receiver> {
    const receiver = new Receiver();
    if (reply) receiver.reply = reply;
    receiver.server = createServer((req, res) => receiver.handle(req, res));
    await new Promise<void>((resolve) => receiver.server.listen(port, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    afterAll(() => receiver.close());
    return receiver;
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const record = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
      const index = this.received.length;
      this.received.push(record);
      const answer = this.reply(record, index);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      if (answer.hold && !this.releasing) this.held.push(send);
      else if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
      this.waiters = this.waiters.filter((w) => (this.received.length >= w.count ? (w.resolve(), false) : true));
    });
  }

  /** Requests held, not answered yet. */
  get holding(): number {
    return this.held.length;
  }

  /** Answers every request held, and from now on holds none. */
  release(): void {
    this.releasing = true;
    this.held.splice(0).forEach((send) => send());
  }

  /** Resolves once `count` requests have arrived (fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs = 15_000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver got ${this.received.length} of ${count} requests in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `check` until it returns a value (bounded). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
