import type { Socket } from 'node:net';
import WebSocket from 'ws';

/** A WebSocket as a subscription writes to it (sharedSubscriptions.ts): text frames, and whether they back up. */
export interface Outlet {
  /** Writes one text frame (through the window); nothing once the socket is closing. */
  send(text: string): void;
  /** More than the high-water mark waits for the client to read. */
  readonly backedUp: boolean;
  /** Calls `listener` once, when what waits has been handed to the kernel. */
  onDrain(listener: () => void): void;
}

/**
 * Frames to one WebSocket written together, at most one write per `windowMs` (most of a busy process's system calls otherwise); past
 * `highWaterBytes` waiting, senders wait as they would without the window (docs/architecture.md, "Live updates").
 */
export class WriteCoalescer {
  private readonly corked = new Set<Socket>();
  private readonly lastWrite = new WeakMap<Socket, number>();
  private readonly sockets = new WeakMap<WebSocket, Socket>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly highWaterBytes: number,
  ) {}

  /** Makes `ws.send` (over `socket`, the connection it was upgraded from) go through the window. */
  adopt(ws: WebSocket, socket: Socket): void {
    const send = ws.send.bind(ws);
    ws.send = ((data: unknown, optionsOrCallback?: unknown, callback?: (error?: Error) => void) => {
      const done = typeof optionsOrCallback === 'function' ? (optionsOrCallback as typeof callback) : callback;
      const options = typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {});
      const waiting = this.hold(socket);
      if (!done || !waiting || socket.writableLength > this.highWaterBytes) return send(data as never, options as never, done);
      send(data as never, options as never, (error?: Error) => {
        if (error) socket.destroy(error);
      });
      queueMicrotask(() => done());
    }) as WebSocket['send'];
    socket.once('close', () => this.corked.delete(socket));
    this.sockets.set(ws, socket);
  }

  /** `ws` (adopted) as an outlet. */
  outlet(ws: WebSocket): Outlet {
    const socket = this.sockets.get(ws);
    if (!socket) throw new Error('the WebSocket was not adopted');
    const highWater = this.highWaterBytes;
    return {
      send: (text) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      },
      get backedUp() {
        return socket.writableLength > highWater;
      },
      onDrain: (listener) => void socket.once('drain', listener),
    };
  }

  /** Whether the frame about to be written to `socket` waits for the window. */
  private hold(socket: Socket): boolean {
    if (this.corked.has(socket)) return true;
    const now = performance.now();
    const last = this.lastWrite.get(socket);
    this.lastWrite.set(socket, now);
    if (last === undefined || now - last >= this.windowMs) return false;
    socket.cork();
    this.corked.add(socket);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    return true;
  }

  private flush(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const socket of this.corked) {
      this.lastWrite.set(socket, now);
      socket.uncork();
    }
    this.corked.clear();
  }

  /** Writes what waits now (the server is closing). */
  close(): void {
    clearTimeout(this.timer);
    this.flush();
  }
}
