import { writeFileSync } from 'node:fs';
import { printedSchema } from '../src/graphql/schema/index.ts';

writeFileSync(new URL('../schema.graphql', import.meta.url), printedSchema());
