import { InputError } from '../rules/errors.ts';
import { isUuid } from '../rules/values.ts';

interface PageQuery {
  cursor?: { id?: string };
  skip?: number;
  take?: number;
}

/**
 * A connection's query with its cursor turned into a bound on the id (UUIDv7 order): Prisma's cursor look-up ignores the tenant, so a
 * cursor naming another tenant's record would place the page there; bounded by value, nothing is revealed.
 */
export function keyset<Q extends PageQuery, W extends object>(query: Q, order: 'asc' | 'desc', where: W): Omit<Q, 'cursor' | 'skip'> & { where: W } {
  const { cursor, skip: _skip, ...rest } = query;
  if (!cursor) return { ...rest, where };
  // Pothos pages backward (before/last) with a negative take.
  const backward = (rest.take ?? 0) < 0;
  if (!cursor.id || !isUuid(cursor.id)) {
    const [field, end] = backward ? ['before', 'startCursor'] : ['after', 'endCursor'];
    throw new InputError([{ field, message: `is not a cursor from this list: pass a pageInfo.${end} (or an edge cursor) as it was given` }]);
  }
  const after = (order === 'desc') !== backward ? { lt: cursor.id } : { gt: cursor.id };
  return { ...rest, where: { AND: [where, { id: after }] } as unknown as W };
}
