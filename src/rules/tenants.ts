import { Problems, text } from './problems.ts';

/** How long finished deliveries may be kept: the server's HERALD_RETENTION_DAYS, or a tenant's own. */
export const RETENTION_DAYS = { min: 1, max: 3650 };

export interface TenantSettingsInput {
  name?: string | null;
  /** Null: the server's HERALD_RETENTION_DAYS. */
  retentionDays?: number | null;
}

/** Checks a tenant's settings (every problem named by its field); answers what to store, absent fields left out. */
export function checkTenantSettings(input: TenantSettingsInput, creating: boolean): { name?: string; retentionDays?: number | null } {
  const problems = new Problems();
  let name: string | undefined;
  if (!creating && input.name === null) problems.add('input.name', 'must not be null: give a name, or leave it out to keep the current one');
  else if (creating || input.name !== undefined) name = text(problems, 'input.name', input.name, { required: true, max: 200 });
  if (input.retentionDays != null) problems.range('input.retentionDays', input.retentionDays, RETENTION_DAYS.min, RETENTION_DAYS.max, 'days (or null for the server default)');
  problems.throwIfAny();
  return { ...(name !== undefined && { name }), ...(input.retentionDays !== undefined && { retentionDays: input.retentionDays }) };
}
