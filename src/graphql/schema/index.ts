import { lexicographicSortSchema, printSchema } from 'graphql';
import { guardArguments } from '../arguments.ts';
import { builder } from '../builder.ts';
import './enums.ts';
import './tenants.ts';
import './apiKeys.ts';
import './viewer.ts';
import './topics.ts';
import './events.ts';
import './conditions.ts';
import './webhooks.ts';
import './deliveries.ts';
import './testing.ts';
import './series.ts';
import './subscriptions.ts';
import './inboxes.ts';
import './meta.ts';
import './configuration.ts';
import './portal.ts';

export const schema = guardArguments(builder.toSchema());

export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
