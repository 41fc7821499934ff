import { brokenOff, outcomeOf } from '../../src/destinations/http/answers.ts';
import { failed, type ErrorKind, type Outcome } from '../../src/rules/outcome.ts';

/**
 * An HTTP attempt's outcome as the HTTP destination reads it: an answer with `status` (its body `message`, a
 * Retry-After, the webhook's final codes), or no answer (`null`: connection refused, or the kind given).
 */
export function httpOutcome(status: number | null, { retryAfter, finalStatusCodes = [], body = 'no', kind }: { retryAfter?: string; finalStatusCodes?: number[]; body?: string; kind?: ErrorKind } = {}): Outcome {
  if (status === null) return failed(kind ?? 'CONNECTION_REFUSED', 'connect ECONNREFUSED', 0);
  const answer = outcomeOf({ statusCode: status, statusMessage: '', headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } }, status < 300 ? '' : body, 0, finalStatusCodes);
  return kind ? brokenOff(answer, Object.assign(new Error('reset'), { code: kind === 'TIMEOUT' ? 'ETIMEDOUT' : 'ECONNRESET' }), 1000) : answer;
}
