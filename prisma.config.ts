import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI (generate; migrate deploy where its engine can be installed).
// Herald itself reads DATABASE_URL in src/config.ts and applies migrations at start-up.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/herald' },
});
