import type { AttemptTrigger } from '../generated/prisma/client.ts';

/** What came of one attempt, in the terms every destination shares (docs/api.md, "Publishing and delivery"). */

/** What went wrong with a delivery: before it (RENDER, BLOCKED), during the attempt, or in the answer. */
export const ERROR_KINDS = ['RENDER', 'HTTP_STATUS', 'REDIRECT', 'TIMEOUT', 'CONNECTION_REFUSED', 'CONNECTION_RESET', 'DNS', 'TLS', 'BLOCKED', 'BODY_TOO_LARGE', 'INVALID_RESPONSE', 'NETWORK'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Failures that say the receiver is down or overwhelmed, whatever the destination. */
const RECEIVER_DOWN: ReadonlyArray<ErrorKind> = ['TIMEOUT', 'CONNECTION_REFUSED', 'CONNECTION_RESET', 'DNS', 'TLS', 'NETWORK', 'INVALID_RESPONSE'];

/** What an answer asks of Herald, as its destination reads it: the failure policy and retries act on this, never on a destination's own codes. */
export interface Asks {
  /** The receiver is down or overwhelmed (not refusing this message): counts toward its circuit. */
  down: boolean;
  /** Fewer requests at once: halves the webhook's in-flight window. */
  slowDown: boolean;
  /** Wait before the next attempt (a Retry-After value as given). */
  retryAfter: string | undefined;
  /** Nothing more, ever (410 Gone): the delivery fails and the webhook is paused. */
  gone: boolean;
  /** This message is refused for good (an answer the webhook marks final): the delivery fails at once. */
  final: boolean;
}

export interface Outcome {
  ok: boolean;
  errorKind: ErrorKind | null;
  /** The receiver's answer (bounded) or what went wrong. */
  message: string;
  responseBody: string | null;
  /** The answer's code and where it pointed, as recorded on the attempt (HTTP's status and Location); null where there is none. */
  statusCode: number | null;
  location: string | null;
  durationMs: number;
  asks: Asks;
}

const NOTHING_ASKED: Asks = { down: false, slowDown: false, retryAfter: undefined, gone: false, final: false };

/** An attempt that got no answer (or was never made): `kind` says what went wrong. */
export function failed(errorKind: ErrorKind, message: string, durationMs: number): Outcome {
  return { ok: false, errorKind, message, responseBody: null, statusCode: null, location: null, durationMs, asks: { ...NOTHING_ASKED, down: RECEIVER_DOWN.includes(errorKind) } };
}

/** An answer: what the destination read in it (`asks`), and what it recorded. */
export function answered(fields: Omit<Outcome, 'asks'>, asks: Partial<Asks>): Outcome {
  return { ...fields, asks: { ...NOTHING_ASKED, ...asks, down: asks.down ?? (fields.errorKind !== null && RECEIVER_DOWN.includes(fields.errorKind)) } };
}

/** An attempt row's fields for an outcome. */
export function attemptOf(outcome: Outcome, number: number, trigger: AttemptTrigger, startedAt: Date) {
  const { durationMs, statusCode, errorKind, message, responseBody, location } = outcome;
  return { number, trigger, startedAt, durationMs, statusCode, errorKind, message, responseBody, location };
}

/** An instance's "last attempt" fields for an outcome. */
export function lastOf(outcome: Outcome) {
  return { lastStatusCode: outcome.statusCode, lastMessage: outcome.message, lastDurationMs: outcome.durationMs, lastErrorKind: outcome.errorKind };
}
