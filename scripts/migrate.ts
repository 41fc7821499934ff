// Applies pending migrations to DATABASE_URL and exits (`npm run migrate`).
// Herald also does this at every start; this is for deploys that migrate first.
import { ConfigError, loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/logger.ts';

try {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL is required to migrate a database']);
  const applied = await migrate(config.databaseUrl, createLogger(config.logLevel));
  process.stdout.write(`${JSON.stringify({ applied })}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
