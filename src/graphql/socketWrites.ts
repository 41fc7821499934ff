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
 * Frames to one WebSocket written together, at most once per `windowMs`: a frame that
 * finds the connection idle for that long goes at once; one that follows soon after
 * waits (the socket corked) and goes with the others of the window in one write.
 *
 * What it saves is system calls: every frame written alone is a write to the kernel, and
 * with hundreds of dashboards each getting a few changes a second those writes are most
 * of what the process does (measured by bench:scale). A dashboard is none the worse for
 * getting a window's changes together.
 *
 * A frame sent with a callback (graphql-ws's own messages, which it sends one after the
 * other) that waits for the window is reported written at once, unless more than
 * `highWaterBytes` wait for the socket: then the sender waits for them to go, as it would
 * without the window. Subscription results are written through `outlet`, which says
 * when the socket is backed up past that mark (a client that does not read then falls
 * behind, see sharedSubscriptions.ts).
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
