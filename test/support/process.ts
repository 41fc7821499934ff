import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What `npm start` finally runs: node's flags (heap limits, source maps) and the file (the built server), from package.json's last command of `start`. */
const START_COMMAND = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split('&&')
  .at(-1)!
  .trim()
  .split(/\s+/);
/** node's arguments for the server as `npm start` runs it: its flags, then the built file. */
export const START_ARGS = START_COMMAND.slice(1);

/** Builds what `npm start` builds before it runs the server (the dashboard, the server), each only if its sources changed. */
export function buildForStart(): void {
  for (const script of ['scripts/build-web.mjs', 'scripts/build-server.mjs']) {
    const build = spawnSync(process.execPath, [script, '--if-stale'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`building (${script}) failed`);
  }
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the GraphQL URL once the server prints where it listens. */
  listening: Promise<string>;
  exited: Promise<number | null>;
}

/** Runs the server as `npm start` runs it (the build of src/, made by the test run's global setup), as a real process; `cwd`: another checkout's build (bench/lib/before.ts). */
export function startServerProcess(env: Record<string, string | undefined>, timeoutMs = 60_000, nodeArgs: string[] = [], cwd?: string): ServerProcess {
  const child = spawn(process.execPath, [...nodeArgs, ...START_ARGS], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    ...(cwd ? { cwd } : {}),
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Herald listening on (http:\/\/\S+?\/graphql)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  listening.catch(() => undefined);
  return { child, output: () => output, listening, exited };
}

export async function graphqlAt(url: string, key: string, query: string, variables?: object) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: any[] };
}

/** A GraphQL caller for a server process (whose URL may change across restarts) that fails on errors. */
export function clientFor(url: () => string, key: string) {
  return async (query: string, variables?: object) => {
    const result = await graphqlAt(url(), key, query, variables);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  };
}
