// An earlier commit's server, built beside this one: to measure what a change costs in the
// same run, on the same machine, against the same PostgreSQL.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Builds `commit`'s server (its src/, prisma/ and scripts/, this checkout's node_modules)
 * into a directory of its own, once; answers the directory its `dist/server.mjs` runs from.
 */
export function buildCommit(commit: string): string {
  const hash = execFileSync('git', ['rev-parse', '--short=12', commit], { cwd: root, encoding: 'utf8' }).trim();
  const dir = path.join(os.tmpdir(), `herald-at-${hash}`);
  if (fs.existsSync(path.join(dir, 'dist', 'server.mjs')) && fs.existsSync(path.join(dir, 'web', 'dist'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', hash, 'src', 'prisma', 'scripts', 'package.json', 'prisma.config.ts'], { cwd: root, maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  // The dashboard it serves is this checkout's (the server wants one; what is measured does not use it).
  fs.mkdirSync(path.join(dir, 'web'));
  fs.symlinkSync(path.join(root, 'web', 'dist'), path.join(dir, 'web', 'dist'));
  for (const script of ['scripts/generate.mjs', 'scripts/build-server.mjs']) {
    const run = spawnSync(process.execPath, [script], { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`building ${hash} (${script}) failed:\n${run.stdout}${run.stderr}`);
  }
  return dir;
}
