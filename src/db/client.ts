import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client.ts';

export type { PrismaClient };
export type Tx = Prisma.TransactionClient;

let current: PrismaClient | undefined;

/** Opens the process's database client; Herald talks to one database per process. */
export function connectDatabase(url: string, poolSize: number): PrismaClient {
  if (current) throw new Error('the database is already connected');
  current = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolSize }) });
  return current;
}

export function db(): PrismaClient {
  if (!current) throw new Error('the database is not connected yet');
  return current;
}

export async function disconnectDatabase(): Promise<void> {
  const client = current;
  current = undefined;
  await client?.$disconnect();
}
