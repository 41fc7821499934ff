import { db } from '../db/client.ts';

/** The client plugin-prisma loads nested selections through (relations of what a resolver answered), so each level stays one query. */
export const ormClient = () => db();
