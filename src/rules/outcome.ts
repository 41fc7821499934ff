import type { AttemptTrigger } from '../generated/prisma/client.ts';

/** What came of one attempt, in the terms every path that can fail shares (docs/api.md, "Publishing and delivery"). */

/** What went wrong with a delivery: before it (RENDER, BLOCKED), during the attempt, or in the answer. */
export const ERROR_KINDS = ['RENDER', 'HTTP_STATUS', 'REDIRECT', 'TIMEOUT', 'CONNECTION_REFUSED', 'CONNECTION_RESET', 'DNS', 'TLS', 'BLOCKED', 'BODY_TOO_LARGE', 'INVALID_RESPONSE', 'NETWORK'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface Outcome {
  ok: boolean;
  statusCode: number | null;
  errorKind: ErrorKind | null;
  /** The receiver's answer (bounded) or what went wrong. */
  message: string;
  responseBody: string | null;
  location: string | null;
  retryAfter: string | undefined;
  durationMs: number;
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
