import { randomBytes } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

/**
 * A UUID v7: time-ordered, and monotonic within this process (a 12-bit counter
 * orders ids made in the same millisecond), so ids sort in creation order.
 */
export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
    }
  } else {
    lastMs = now;
    sequence = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  randomPool(bytes);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** When a UUID v7 was made (ms since the epoch: its first 48 bits). */
export function createdAt(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** Random bytes taken from a pool refilled 4 KiB at a time (one system call for 256 ids). */
let pool = Buffer.alloc(0);
let used = 0;
function randomPool(target: Buffer): void {
  if (used + target.length > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  pool.copy(target, 0, used, used + target.length);
  used += target.length;
}
