import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Tx } from '../db/client.ts';
import type { Logger } from '../logger.ts';

/**
 * Changes travel between processes through PostgreSQL LISTEN/NOTIFY on one channel,
 * so a subscriber connected to any process sees what any worker did. Messages carry
 * ids only; subscribers load what they may see.
 */
export const CHANNEL = 'herald_changes';

export type Change =
  | { k: 'instance'; t: string; id: string; w: string; s: string; /** next attempt, when RETRYING */ n?: string }
  | { k: 'webhook'; t: string; id: string }
  | { k: 'event'; t: string; id: string; topic: string }
  | { k: 'key'; t: string; id: string }
  | { k: 'inbox'; t: string; id: string; inbox: string };

/**
 * Publishes changes when the transaction commits (NOTIFY is transactional). Instance
 * changes are announced by the statements that make them (store/sql/instances.ts).
 */
export async function notify(tx: Tx | { $executeRaw: Tx['$executeRaw'] }, changes: Array<Exclude<Change, { k: 'instance' }>>): Promise<void> {
  if (changes.length === 0) return;
  const payloads = changes.map((c) => JSON.stringify(c));
  await tx.$executeRaw`SELECT pg_notify(${CHANNEL}, payload) FROM unnest(${payloads}::text[]) AS payload`;
}

/** A new or changed instance's announcement (as the store's statements announce it, store/sql/instances.ts `announce`). */
export const instanceChange = (i: { tenantId: string; id: string; webhookId: string; status: string }): Change => ({ k: 'instance', t: i.tenantId, id: i.id, w: i.webhookId, s: i.status });

/** One LISTEN connection per process, re-established when it drops. */
/** `lost`: the connection dropped (changes made meanwhile are not heard); `reconnected`: listening again. */
export class ChangeFeed extends EventEmitter<{ change: [Change]; reconnected: []; lost: [] }> {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = 100;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'herald-changes' });
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      try {
        this.emit('change', JSON.parse(message.payload) as Change);
      } catch (error) {
        this.log.warn({ err: error }, 'unreadable change notification');
      }
    });
    client.on('error', (error) => this.log.warn({ err: error }, 'change feed connection error'));
    client.on('end', () => {
      if (this.stopped) return;
      this.log.warn('change feed connection lost; reconnecting');
      this.emit('lost');
      void this.reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
    this.retryMs = 100;
  }

  private async reconnect(): Promise<void> {
    while (!this.stopped) {
      await new Promise((r) => setTimeout(r, this.retryMs));
      try {
        await this.connect();
        this.log.info('change feed listening again');
        this.emit('reconnected');
        return;
      } catch (error) {
        this.retryMs = Math.min(this.retryMs * 2, 5000);
        this.log.warn({ err: error, retryMs: this.retryMs }, 'change feed reconnect failed');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }
}
