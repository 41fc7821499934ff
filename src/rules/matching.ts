import type { Combinator, HttpMethod, PayloadMode, TemplateFormat } from '../generated/prisma/client.ts';
import type { ConditionRow } from './webhookSettings.ts';

/** What matching an event and rendering its payload need of a webhook (the publish catalog's rows). */
export interface MatchingWebhook {
  id: string;
  eventTypes: string[];
  conditionMatch: Combinator;
  conditions: ConditionRow[];
  batchWindowMs: number | null;
  batchMaxSize: number;
  orderedDelivery: boolean;
  url: string;
  method: HttpMethod;
  payloadMode: PayloadMode;
  selectedFields: string[];
  template: string | null;
  templateFormat: TemplateFormat | null;
  /** Its deliveries are held (PAUSED) until it resumes. */
  paused: boolean;
  /** Its circuit is open: its deliveries wait (parked, no job) until a probe succeeds. */
  circuitOpen: boolean;
}
