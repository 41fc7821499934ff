import type { IncomingMessage } from 'node:http';

/**
 * A request's whole body, or null as soon as it passes `limit` bytes: reading stops
 * there, and the socket stays open for the 413 answer (closed after it).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (value: Buffer | null) => {
      req.off('data', onData).off('end', onEnd).off('error', reject);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      stop(null);
    };
    const onEnd = () => stop(Buffer.concat(chunks));
    req.on('data', onData).on('end', onEnd).on('error', reject);
  });
}
