import { appliedMigrations, migrationNames } from '../db/migrate.ts';

export interface Readiness {
  ready: boolean;
  checks: Record<'database' | 'migrations' | 'queue', string>;
}

/** `/readyz`: the database answers, every migration this build ships is applied, and the process is not stopping. */
export async function readinessCheck(): Promise<(stopping: boolean) => Promise<Readiness>> {
  const shipped = await migrationNames();
  return async (stopping) => {
    const checks = { database: 'ok', migrations: 'ok', queue: stopping ? 'stopping' : 'ok' };
    try {
      const applied = new Set(await appliedMigrations());
      const pending = shipped.filter((name) => !applied.has(name));
      if (pending.length > 0) checks.migrations = `pending: ${pending.join(', ')}`;
    } catch (error) {
      checks.database = `unreachable: ${(error as Error).message}`;
      checks.migrations = 'unknown';
    }
    return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
  };
}
