import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/logger.ts';
import { clientFor, startServerProcess, type ServerProcess } from '../../test/support/process.ts';

export { buildForStart } from '../../test/support/process.ts';

export const KEY = 'hk_bench_bootstrap_admin_key_000000000';

/**
 * The embedded PostgreSQL of a bench or drill run, as `npm start` runs it (same
 * settings), in a temporary directory, on a fixed port so it can be restarted.
 */
export class Postgres {
  private server: EmbeddedPostgres | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly settings: Record<string, string>,
  ) {}

  /** `settings`: extra PostgreSQL settings (`shared_preload_libraries`, say). */
  static async start(settings: Record<string, string> = {}): Promise<Postgres> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-bench-'));
    await fs.chmod(dir, 0o755);
    const postgres = new Postgres(dir, await freePort(), settings);
    await postgres.boot();
    return postgres;
  }

  private async boot(): Promise<void> {
    this.server = await startEmbeddedPostgres({ dir: this.dataDir, port: this.port, persistent: true, log: createLogger('warn'), settings: this.settings });
  }

  /** Where its data (and postmaster.pid) is. */
  get dataDir(): string {
    return path.join(this.dir, 'pg');
  }

  /** A new database on this server, and its URL. */
  async database(name: string): Promise<string> {
    await this.server!.createDatabase(name);
    return this.server!.urlFor(name);
  }

  /** Stops the server (every connection is cut) and starts it again on the same data and port. */
  async restart(downMs = 0): Promise<void> {
    await this.server!.stop();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    await this.boot();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** A Herald server process (what `npm start` runs: the build of src/, see buildForStart) on a given database. */
export class Herald {
  private process: ServerProcess | undefined;
  url = '';
  readonly gql = clientFor(() => this.url, KEY);

  constructor(
    private readonly env: Record<string, string>,
    /** Extra `node` flags (`--cpu-prof`, say). */
    private readonly nodeArgs: string[] = [],
    /** Another commit's build to run (bench/lib/before.ts); unset: this checkout's. */
    private readonly cwd?: string,
  ) {}

  async start(): Promise<void> {
    this.process = startServerProcess({
      HERALD_BOOTSTRAP_KEY: KEY,
      HERALD_OUTBOUND_ALLOW: '127.0.0.0/8',
      HERALD_DEACTIVATE_AFTER_FAILURES: '100000',
      ...this.env,
    }, 60_000, this.nodeArgs, this.cwd);
    this.url = await this.process.listening;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return !!this.process && this.process.child.exitCode === null && this.process.child.signalCode === null;
  }

  get pid(): number {
    return this.process!.child.pid!;
  }

  /** Peak resident memory of the process so far (VmHWM), in MB. */
  async peakMemoryMb(): Promise<number> {
    return this.memory('VmHWM');
  }

  /** Resident memory of the process now (VmRSS), in MB. */
  async memoryMb(): Promise<number> {
    return this.memory('VmRSS');
  }

  private async memory(field: string): Promise<number> {
    const status = await fs.readFile(`/proc/${this.pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) / 1024;
  }

  /** Kills the process (SIGKILL: no goodbye) or stops it (SIGTERM: drains), and waits for it to exit. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM'): Promise<number | null> {
    const running = this.process;
    this.process = undefined;
    if (!running) return null;
    running.child.kill(signal);
    return running.exited;
  }

  output(): string {
    return this.process?.output() ?? '';
  }
}

/** A plain connection to Herald's database, for counting what it recorded. */
export async function openDatabase(url: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  return pool;
}

export async function createWebhook(herald: Herald, input: Record<string, unknown>): Promise<string> {
  const data = await herald.gql('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { active: true, ...input } });
  return data.createWebhook.webhook.id;
}

export async function createTopic(herald: Herald, key: string): Promise<void> {
  await herald.gql('mutation($key: String!) { createTopic(input: { key: $key, name: $key }) { key } }', { key });
}

const PUBLISH = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id } } }';

/**
 * Publishes events of `topic` through the API; answers the acknowledged instances' ids.
 * With `retryUntil` (a Date.now() deadline), a failed call (server down, database down)
 * is tried again until then, each event's entity id being its idempotency key, so that
 * nothing is published twice.
 */
export async function publish(herald: Herald, topic: string, entityIds: string[], retryUntil = 0): Promise<string[]> {
  const inputs = entityIds.map((entityId) => ({ event: { topic, action: 'created', entityId, data: { entityId, status: 'Completed', amount: 42 } }, ...(retryUntil ? { idempotencyKey: entityId } : {}) }));
  for (;;) {
    try {
      const data = await herald.gql(PUBLISH, { inputs });
      return data.publishEvents.flatMap((p: { instances: Array<{ id: string }> }) => p.instances.map((i) => i.id));
    } catch (error) {
      if (Date.now() > retryUntil) {
        // Say why: the server's state and its last words, not only the refused connection.
        const tail = herald.output().split('\n').slice(-15).join('\n');
        throw new Error(`publishing failed (server ${herald.alive ? 'running' : 'NOT running'}): ${(error as Error).message}\n--- server output ---\n${tail}`, { cause: error });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Publishes `perCall` events a call at `rate` events per second for `seconds` (open
 * loop: calls do not wait for each other, at most 64 at once); answers when each
 * acknowledged instance was acknowledged (performance.now()). Entity ids start with `run`.
 */
export async function publishAtRate(herald: Herald, topic: string, rate: number, seconds: number, options: { perCall?: number; retryUntil?: number; run?: string } = {}): Promise<Map<string, number>> {
  const { perCall = 1, retryUntil = 0, run = topic } = options;
  const acknowledged = new Map<string, number>();
  const calls = Math.max(1, Math.round((rate * seconds) / perCall));
  const t0 = performance.now();
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < calls; i += 1) {
    const wait = t0 + (i * perCall * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const call = publish(herald, topic, Array.from({ length: perCall }, (_, j) => `${run}-${i}-${j}`), retryUntil).then((ids) => {
      const at = performance.now();
      for (const id of ids) acknowledged.set(id, at);
    });
    pending.add(call);
    void call.finally(() => pending.delete(call)).catch(() => undefined);
    if (pending.size >= 64) await Promise.race(pending);
  }
  await Promise.all(pending);
  return acknowledged;
}

/**
 * Subscribes (graphql-ws, as a dashboard does) to a webhook's COMPLETED changes;
 * `onValue` gets each one's updatedAt as it arrives. Resolves once subscribed.
 */
export async function watchCompleted(graphqlUrl: string, webhookId: string, onValue: (updatedAt: string) => void): Promise<{ dispose(): Promise<void> }> {
  let acknowledged: () => void = () => {};
  const connected = new Promise<void>((resolve) => (acknowledged = resolve));
  const client = createClient({ url: graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${KEY}` }, retryAttempts: 0, on: { connected: () => acknowledged() } });
  client.subscribe<{ instanceUpdated: { updatedAt: string } }>(
    { query: 'subscription($w: ID) { instanceUpdated(webhookId: $w, statuses: [COMPLETED]) { id updatedAt } }', variables: { w: webhookId } },
    { next: (value) => value.data && onValue(value.data.instanceUpdated.updatedAt), error: () => undefined, complete: () => undefined },
  );
  await connected;
  await new Promise((r) => setTimeout(r, 300)); // the server registers the subscription just after acknowledging
  return { dispose: async () => client.dispose() };
}
