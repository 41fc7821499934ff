import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Route {
  /** Requests received, retries included. */
  total: number;
  /** Receipts per `webhook-id` (an instance: the same id on every attempt). */
  ids: Map<string, number>;
  /** When each id first arrived (performance.now()). */
  firstAt: Map<string, number>;
  /** How to answer: after `delayMs`, with `status`. */
  answer: { status: number; delayMs: number };
}

/**
 * Loopback receivers for the bench and the drills: one HTTP server, one route per
 * webhook (`/r/<name>`), each counting what it got by Standard Webhooks id. It can
 * go down (connections refused) and come back on the same port.
 */
export class Receivers {
  readonly routes = new Map<string, Route>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();
  port = 0;

  static async start(): Promise<Receivers> {
    const receivers = new Receivers();
    await receivers.up();
    return receivers;
  }

  /** The URL of a route (made on first use) that answers as told. */
  route(name: string, answer: Partial<Route['answer']> = {}): string {
    if (!this.routes.has(name)) this.routes.set(name, { total: 0, ids: new Map(), firstAt: new Map(), answer: { status: 200, delayMs: 0, ...answer } });
    return `http://127.0.0.1:${this.port}/r/${name}`;
  }

  get(name: string): Route {
    const route = this.routes.get(name);
    if (!route) throw new Error(`no route ${name}`);
    return route;
  }

  /** Resolves once `check` holds, re-checked at every request (bounded). */
  waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const at = performance.now();
    const route = this.routes.get((req.url ?? '').slice(3));
    const id = String(req.headers['webhook-id'] ?? '');
    req.resume();
    req.on('end', () => {
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      route.total += 1;
      route.ids.set(id, (route.ids.get(id) ?? 0) + 1);
      if (!route.firstAt.has(id)) route.firstAt.set(id, at);
      const { status, delayMs } = route.answer;
      const send = () => !res.destroyed && res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
      for (const waiter of this.waiters) waiter();
    });
  }

  /** Listens (again, on the same port after `down`). */
  async up(): Promise<void> {
    const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every connection: senders get refused connections. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
