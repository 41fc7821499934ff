import type { AddressGuard } from '../rules/addresses.ts';
import type { Destination } from './destination.ts';
import { HttpDestination } from './http/destination.ts';

export type { Destination, Prepared, ShownRequest, Signer, Target } from './destination.ts';
export { allowOwnInboxes } from './http/sender.ts';
/** What a Standard Webhooks signature over HTTP covers (Herald's inboxes check captured requests with it). */
export { signedContent } from './http/request.ts';

/** The kinds of destination a webhook may deliver to; each is a folder beside this file. */
export const DESTINATION_TYPES = ['HTTP'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

let open: Record<DestinationType, Destination> | undefined;

/** Opens the process's destinations (their connection pools) behind the outbound allow-list's guard; the app does, once. */
export function openDestinations(guard: AddressGuard): void {
  closeDestinations();
  open = { HTTP: new HttpDestination(guard) };
}

/** The destination of a type. */
export function destination(type: DestinationType = 'HTTP'): Destination {
  if (!open) throw new Error('the destinations are not open yet');
  return open[type];
}

export function closeDestinations(): void {
  for (const one of Object.values(open ?? {})) one.close();
  open = undefined;
}
