import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`Herald cannot start. ${error.message}\n`);
  process.exit(1);
}

const log = createLogger(config.logLevel);
const app = await buildApp(config, log).catch((error: unknown) => {
  log.fatal({ err: error }, 'Herald could not start');
  process.exit(1);
});
// Shown as soon as it exists: it is created once, so a start that cannot listen must not lose it.
if (app.bootstrapKey) {
  process.stdout.write(
    `\nCreated tenant "default" with an ADMIN API key. It is shown only this once:\n\n    ${app.bootstrapKey}\n\n` +
      `Use it as "Authorization: Bearer <key>".\n\n`,
  );
}
const { url, metricsPort } = await app.start().catch(async (error: NodeJS.ErrnoException) => {
  const where = `${config.host}:${config.port}`;
  log.fatal({ err: error }, error.code === 'EADDRINUSE' ? `Herald cannot listen on ${where}: the port is in use (set PORT or HOST)` : `Herald cannot listen on ${where}`);
  await app.stop().catch(() => undefined);
  process.exit(1);
});
log.info({ url, role: config.role, ...(metricsPort !== undefined ? { metricsPort } : {}) }, `Herald listening on ${url}`);

// npm and tsx relay signals, so one Ctrl-C can arrive more than once: only a
// signal well after the first one means "stop waiting".
let stoppingSince: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < 2000) return;
      log.warn('second signal: exiting without waiting');
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info({ signal }, 'stopping: draining requests and jobs');
    app.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  });
}
