import { PgBoss } from 'pg-boss';
import type { Logger } from '../logger.ts';

export type { PgBoss };

/** Starts pg-boss on Herald's database (its tables live in the `pgboss` schema). */
export async function startQueue(databaseUrl: string, log: Logger, options: { max?: number } = {}): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: 'pgboss',
    application_name: 'herald-queue',
    max: options.max ?? 10,
    useListenNotify: true,
  });
  boss.on('error', (error) => log.error({ err: error }, 'queue error'));
  boss.on('warning', (warning) => log.warn({ warning }, 'queue warning'));
  await boss.start();
  return boss;
}
