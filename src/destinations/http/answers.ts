import type { Response } from 'got';
import { answered, failed, type Asks, type ErrorKind, type Outcome } from '../../rules/outcome.ts';
import { safeString } from '../../rules/values.ts';

/** What an HTTP attempt came to, in the outcome kinds every destination shares: the HTTP destination's one reader of answers. */

export const RESPONSE_LIMIT = 4096;

/** Answers that ask for fewer requests at once. */
const SLOW_DOWN = [429, 502, 503, 504];
/** Answers whose Retry-After is a wait asked for. */
const MAY_ASK_TO_WAIT = [429, 503];

/** What a status asks of Herald (`final`: the webhook's own list of status codes that fail a delivery at once). */
export function asksOf(status: number, retryAfter: string | undefined, finalStatusCodes: readonly number[]): Partial<Asks> {
  if (status >= 200 && status < 300) return {};
  return {
    down: status >= 500 || status === 429 || status === 408,
    slowDown: SLOW_DOWN.includes(status),
    retryAfter: MAY_ASK_TO_WAIT.includes(status) ? retryAfter : undefined,
    gone: status === 410,
    final: finalStatusCodes.includes(status),
  };
}

/** A whole answer (or its first RESPONSE_LIMIT bytes). */
export function outcomeOf(response: Pick<Response, 'statusCode' | 'statusMessage' | 'headers'>, body: string, durationMs: number, finalStatusCodes: readonly number[]): Outcome {
  const status = response.statusCode;
  const ok = status >= 200 && status < 300;
  const location = typeof response.headers.location === 'string' ? safeString(response.headers.location) : null;
  const retryAfter = typeof response.headers['retry-after'] === 'string' ? response.headers['retry-after'] : undefined;
  const errorKind: ErrorKind | null = ok ? null : status >= 300 && status < 400 ? 'REDIRECT' : status === 413 ? 'BODY_TOO_LARGE' : 'HTTP_STATUS';
  const text = body.trim() || safeString(response.statusMessage ?? '');
  const message = errorKind === 'REDIRECT' ? `redirect to ${location ?? '(no Location)'} not followed` : `${status}${text ? ` ${text}` : ''}`;
  return answered({ ok, statusCode: status, errorKind, message: message.slice(0, RESPONSE_LIMIT), responseBody: body, location, durationMs }, asksOf(status, retryAfter, finalStatusCodes));
}

/**
 * An answer whose status came but whose body stopped short (reset, timed out): not a delivery, whatever its status,
 * since the receiver may not have finished; it is tried again.
 */
export function brokenOff(outcome: Outcome, error: Error & { code?: string }, timeoutMs: number): Outcome {
  const kind = kindOf(error);
  const errorKind = kind === 'TIMEOUT' ? 'TIMEOUT' : kind === 'INVALID_RESPONSE' ? 'INVALID_RESPONSE' : 'CONNECTION_RESET';
  const how = errorKind === 'TIMEOUT' ? `did not finish within ${timeoutMs} ms` : errorKind === 'INVALID_RESPONSE' ? 'was not valid HTTP' : 'was cut off (the connection was reset)';
  return { ...outcome, ok: false, errorKind, message: `${outcome.statusCode} answered, but the answer ${how}`.slice(0, RESPONSE_LIMIT), asks: { ...outcome.asks, down: true } };
}

/** A request that got no answer. */
export function unanswered(error: Error & { code?: string }, timeoutMs: number, durationMs: number): Outcome {
  return failed(kindOf(error), safeString(messageOf(error, timeoutMs)), durationMs);
}

function kindOf(error: Error & { code?: string }): ErrorKind {
  const code = error.code ?? '';
  if (code === 'EBLOCKED' || error.name === 'BlockedAddressError') return 'BLOCKED';
  if (code === 'ETIMEDOUT' || error.name === 'TimeoutError') return 'TIMEOUT';
  if (code === 'ECONNREFUSED') return 'CONNECTION_REFUSED';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'CONNECTION_RESET';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'DNS';
  if (/CERT|TLS|SSL|EPROTO|SELF_SIGNED/.test(code)) return 'TLS';
  if (code.startsWith('HPE_')) return 'INVALID_RESPONSE';
  return 'NETWORK';
}

function messageOf(error: Error & { code?: string }, timeoutMs: number): string {
  if (kindOf(error) === 'TIMEOUT') return `no answer within ${timeoutMs} ms`;
  if (kindOf(error) === 'INVALID_RESPONSE') return `the answer is not valid HTTP (${error.code}: ${error.message})`;
  const cause = (error as { cause?: Error }).cause;
  if (cause?.name === 'BlockedAddressError') return cause.message;
  return error.message;
}
