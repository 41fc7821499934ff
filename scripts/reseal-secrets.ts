// Seals every webhook secret in DATABASE_URL with the first key of HERALD_SECRET_KEY
// (`npm run secrets:reseal`), after which the old key may be dropped. To rotate: set
// HERALD_SECRET_KEY=new,old on every process, run this (start-up does it too), then
// set HERALD_SECRET_KEY=new.
import { ConfigError, loadConfig } from '../src/config.ts';
import { loadKeys, useKeys } from '../src/crypto/secrets.ts';
import { connectDatabase, disconnectDatabase } from '../src/db/client.ts';
import { resealSecrets } from '../src/usecases/webhooks.ts';

try {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL is required to re-seal the secrets of a database']);
  useKeys(loadKeys(config.secretKeys, config.dataDir).keys);
  connectDatabase(config.databaseUrl, 2);
  const resealed = await resealSecrets();
  await disconnectDatabase();
  process.stdout.write(`${JSON.stringify({ resealed })}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
