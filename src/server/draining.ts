import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../logger.ts';
import type { Handler } from './routes.ts';

/**
 * The HTTP server, counting requests in flight so that closing it drains them: it stops
 * accepting, closes idle connections and WebSockets (1001), waits for requests in
 * flight until the deadline, then ends whatever is left.
 */
export class DrainingServer {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private inFlight = 0;
  private readonly idle: Array<() => void> = [];

  constructor(handle: Handler, log: Logger) {
    this.server = createServer((req, res) => {
      this.inFlight += 1;
      res.on('close', () => {
        this.inFlight -= 1;
        if (this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
      });
      handle(req, res).catch((error) => {
        log.error({ err: error }, 'request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return this.server.address() as AddressInfo;
  }

  async close(deadline: number, webSockets: Iterable<{ close(code: number, reason: string): void }>): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const client of webSockets) client.close(1001, 'server shutting down');
    this.server.closeIdleConnections();
    const drained = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idle.push(resolve));
    await Promise.race([drained, delay(deadline - Date.now())]);
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
