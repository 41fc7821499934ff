import { Prisma } from '../generated/prisma/client.ts';

/** Whether a write failed on a unique constraint: another writer stored the same key first. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
