import { writeFileSync } from 'node:fs';
import { printedSchema } from '../src/graphql/schema/index.ts';
import { DASHBOARD_TYPES, dashboardTypes } from './dashboard-types.ts';

const sdl = printedSchema();
writeFileSync(new URL('../schema.graphql', import.meta.url), sdl);
writeFileSync(DASHBOARD_TYPES, dashboardTypes(sdl));
