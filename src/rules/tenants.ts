import { Problems, text } from './problems.ts';

/** How long finished deliveries may be kept: the server's HERALD_RETENTION_DAYS, or a tenant's own. */
export const RETENTION_DAYS = { min: 1, max: 3650 };
/** A tenant's part of the delivery workers, against others with deliveries waiting. */
export const DELIVERY_WEIGHT = { min: 1, max: 100 };
/** Events a second a tenant may publish, and at once: the server's HERALD_PUBLISH_RATE / HERALD_PUBLISH_BURST, or its own. */
export const PUBLISH_RATE = { min: 1, max: 1_000_000 };
export const PUBLISH_BURST = { min: 1, max: 10_000_000 };

export interface TenantSettingsInput {
  name?: string | null;
  /** Null: the server's HERALD_RETENTION_DAYS. */
  retentionDays?: number | null;
  deliveryWeight?: number | null;
  /** Null: the server's HERALD_PUBLISH_RATE. */
  publishRate?: number | null;
  /** Null: the server's HERALD_PUBLISH_BURST. */
  publishBurst?: number | null;
}

export interface TenantSettings {
  name?: string;
  retentionDays?: number | null;
  deliveryWeight?: number;
  publishRate?: number | null;
  publishBurst?: number | null;
}

/** Checks a tenant's settings (every problem named by its field); answers what to store, absent fields left out. */
export function checkTenantSettings(input: TenantSettingsInput, creating: boolean): TenantSettings {
  const problems = new Problems();
  let name: string | undefined;
  if (!creating && input.name === null) problems.add('input.name', 'must not be null: give a name, or leave it out to keep the current one');
  else if (creating || input.name !== undefined) name = text(problems, 'input.name', input.name, { required: true, max: 200 });
  if (input.retentionDays != null) problems.range('input.retentionDays', input.retentionDays, RETENTION_DAYS.min, RETENTION_DAYS.max, 'days (or null for the server default)');
  if (input.deliveryWeight === null) problems.add('input.deliveryWeight', `must not be null: give ${DELIVERY_WEIGHT.min}–${DELIVERY_WEIGHT.max}, or leave it out`);
  else if (input.deliveryWeight !== undefined) problems.range('input.deliveryWeight', input.deliveryWeight, DELIVERY_WEIGHT.min, DELIVERY_WEIGHT.max, '(its part of the delivery workers against a tenant of weight 1)');
  if (input.publishRate != null) problems.range('input.publishRate', input.publishRate, PUBLISH_RATE.min, PUBLISH_RATE.max, 'events a second (or null for the server default)');
  if (input.publishBurst != null) problems.range('input.publishBurst', input.publishBurst, PUBLISH_BURST.min, PUBLISH_BURST.max, 'events at once (or null for the server default)');
  problems.throwIfAny();
  const given = <K extends keyof TenantSettingsInput>(k: K) => input[k] !== undefined;
  return {
    ...(name !== undefined && { name }),
    ...(given('retentionDays') && { retentionDays: input.retentionDays }),
    ...(given('deliveryWeight') && { deliveryWeight: input.deliveryWeight! }),
    ...(given('publishRate') && { publishRate: input.publishRate }),
    ...(given('publishBurst') && { publishBurst: input.publishBurst }),
  };
}
