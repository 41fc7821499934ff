import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.ts';

/** Debian's PostgreSQL 15 (package postgresql-15; `npm test` installs it where apt-get can). */
export const PG15_BIN = process.env.PG15_BIN ?? '/usr/lib/postgresql/15/bin';

export interface Postgres15 {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a throw-away PostgreSQL 15 on a free loopback port in a temporary directory.
 * As root (these machines), its tools run as the `postgres` user, which PostgreSQL requires.
 */
export async function startPostgres15(): Promise<Postgres15> {
  if (!fs.existsSync(path.join(PG15_BIN, 'pg_ctl'))) throw new Error(`PostgreSQL 15 is not installed at ${PG15_BIN}: apt-get install postgresql-15, or set PG15_BIN`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-pg15-'));
  const data = path.join(dir, 'data');
  const root = process.getuid?.() === 0;
  if (root) execFileSync('chown', ['postgres:postgres', dir]);
  const run = (tool: string, args: string[]) => {
    const command = [path.join(PG15_BIN, tool), ...args];
    if (root) execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')], { stdio: 'pipe' });
    else execFileSync(command[0]!, command.slice(1), { stdio: 'pipe' });
  };
  const port = await freePort();
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  run('pg_ctl', ['-D', data, '-w', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`, 'start']);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
