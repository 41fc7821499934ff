// Builds the server (src/, TypeScript) into one file, dist/server.mjs, which
// `npm start` runs with plain node: no TypeScript loader in the running server
// (tsx's loader thread alone costs ~35 MB). Packages stay in node_modules.
// `npm install` runs it; `npm start` runs it with --if-stale, which skips the
// build when dist/server.mjs is newer than every source file.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isStale } from './stale.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_FILE = path.join(root, 'dist', 'server.mjs');

export async function buildServer({ ifStale = false } = {}) {
  if (ifStale && !isStale(SERVER_FILE, [path.join(root, 'src'), path.join(root, 'package.json'), fileURLToPath(import.meta.url)])) return false;
  const { build } = await import('esbuild');
  await build({
    // The server, and the render threads' worker beside it (src/render/pool.ts finds it there).
    entryPoints: { server: path.join(root, 'src', 'index.ts'), 'render-worker': path.join(root, 'src', 'render', 'worker.ts') },
    outdir: path.dirname(SERVER_FILE),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildServer({ ifStale: process.argv.includes('--if-stale') });
}
