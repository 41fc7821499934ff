import type { Authentication } from '../usecases/authenticate.ts';
import type { Config } from '../config.ts';
import type { ChangeFeed } from '../pubsub/changes.ts';
import { unauthenticated } from '../rules/errors.ts';

export interface Context {
  auth: Authentication;
  config: Config;
  /** Changes from every process, for subscriptions. */
  feed: ChangeFeed;
  /** Where this server is reached (HERALD_PUBLIC_URL, else the address it listens on). */
  publicOrigin(): string;
}

/** The caller's tenant; fields that use it are guarded by a tenant permission. */
export function tenantOf(ctx: Context): string {
  const principal = ctx.auth.principal;
  if (principal?.kind !== 'key') throw unauthenticated('this field needs a tenant API key');
  return principal.tenantId;
}
