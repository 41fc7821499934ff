import type { Attributes } from '@opentelemetry/api';
import type { Outcome } from '../rules/outcome.ts';
import type { RenderedPayload } from '../rules/payload.ts';
import type { StoredHeader } from '../rules/webhookSettings.ts';

/**
 * The seam every kind of destination plugs into (docs/architecture.md, "Destinations"): a rendered message is
 * prepared for the destination (signed, addressed), sent, and what came back read into the shared outcome kinds.
 * Nothing outside a destination's folder knows its codes, addresses or wire format.
 */

/** What a message is made with: the webhook's own headers and its signing secrets. */
export interface Signer {
  headers: StoredHeader[];
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
}

/** The webhook's settings a destination reads. */
export interface Target extends Signer {
  timeoutMs: number;
  /** Answers the webhook marks final (fail at once instead of retrying). */
  finalStatusCodes: number[];
}

/** What was (or would be) sent, as a person sees it: how and where, headers (secret values hidden), the body. */
export interface ShownRequest {
  method: string;
  url: string;
  headers: Array<{ name: string; value: string }>;
  body: string | null;
}

/** A message ready to go: the destination's own form of it, and what Herald keeps, shows and traces of it. */
export interface Prepared {
  /** As its instance keeps it (JSON; secret values hidden). */
  stored: unknown;
  /** As a person sees it, body included. */
  shown: ShownRequest & { body: string };
  /** The attempt's trace span: its name and attributes. */
  span: { name: string; attributes: Attributes };
  /** Sends a trace context (`traceparent`, `tracestate`) along, for webhooks that ask for it. */
  carry(context: Record<string, string>): void;
}

export interface Destination<P extends Prepared = Prepared> {
  /** The message for `payload` with id `messageId`, signed as of `at`. Pure: previews and the Test button use it too. */
  prepare(payload: RenderedPayload, signer: Signer, messageId: string, at: Date): P;
  /** Sends it and reads what came back. Never throws for what a receiver or the network does: that is an outcome. */
  send(prepared: P, target: Target): Promise<Outcome>;
  /** A stored message as shown (an instance's last request). */
  shown(stored: unknown, payload: unknown, messageId: string): ShownRequest | null;
  close(): void;
}
