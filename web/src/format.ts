// How times, moments and rates read on every screen (the browser's language and time zone).

const DATE_TIME = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });

/** A moment with its date and time zone (the browser's), e.g. "3 Dec 2026, 09:12:05 UTC". */
export function time(value: string | null | undefined): string {
  if (!value) return '—';
  return DATE_TIME.format(new Date(value));
}

/** A datetime-local input's value for an ISO moment (the browser's time zone), and back. */
export function localInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
export function fromLocalInput(value: string): string {
  return value ? new Date(value).toISOString() : '';
}

/** The browser's time zone, said beside date inputs. */
export const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A moment of today, e.g. "09:12:05 UTC". */
export function clock(at: number): string {
  return CLOCK.format(at);
}

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`;
}
