// Generates the Prisma client and Pothos types (`npm install` runs this).
// The Prisma CLI insists on a native schema engine binary even though `generate`
// never uses it, and that binary cannot be downloaded here, so point it at any file.
import { spawnSync } from 'node:child_process';

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
