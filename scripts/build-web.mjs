// Builds the dashboard (web/) into web/dist, which the server serves at `/`.
// `npm install` runs it; `npm start` runs it with --if-stale, which skips the
// build when web/dist is newer than every source file.
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { isStale } from './stale.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');
const outDir = path.join(root, 'dist');

export async function buildDashboard({ ifStale = false } = {}) {
  const sources = [path.join(root, 'src'), path.join(root, 'index.html'), path.join(root, 'graphiql.html'), path.join(root, '..', 'package-lock.json')];
  if (ifStale && !isStale(path.join(outDir, 'graphiql', 'yoga-graphiql.js'), sources) && !isStale(path.join(outDir, 'index.html'), sources)) return false;
  // Always React's production build, also when run from the tests (NODE_ENV=test).
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  await build({
    root,
    configFile: false,
    mode: 'production',
    logLevel: 'warn',
    base: '/',
    oxc: { jsx: { runtime: 'automatic' } },
    build: {
      outDir,
      emptyOutDir: true,
      sourcemap: true,
      chunkSizeWarningLimit: 1000,
      rolldownOptions: { input: { dashboard: path.join(root, 'index.html'), graphiql: path.join(root, 'graphiql.html') } },
    },
  });
  await writeGraphiQL(path.join(outDir, 'graphiql'));
  // Compressed copies, which the server sends to browsers that accept gzip.
  for (const dir of ['assets', 'graphiql'].map((d) => path.join(outDir, d))) {
    for (const name of fs.readdirSync(dir).filter((n) => /\.(js|css)$/.test(n))) {
      fs.writeFileSync(path.join(dir, `${name}.gz`), gzipSync(fs.readFileSync(path.join(dir, name)), { level: 9 }));
    }
  }
  return true;
}

/** GraphiQL's own script, styles and editor workers, as graphql-yoga ships them, served from Herald (web/src/graphiql.ts loads them). */
async function writeGraphiQL(dir) {
  const graphiql = await import('@graphql-yoga/render-graphiql/graphiql');
  fs.mkdirSync(dir, { recursive: true });
  const files = {
    'yoga-graphiql.js': graphiql.js,
    'graphiql.css': graphiql.css,
    'editor.worker.js': graphiql.editorWorkerService,
    'json.worker.js': graphiql.jsonWorker,
    'graphql.worker.js': graphiql.graphqlWorker,
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildDashboard({ ifStale: process.argv.includes('--if-stale') });
}
