// Durations as people write them ("5m, 30m, 2h, 24h") and as the API takes them (milliseconds).

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** "5m" → 300000; a bare number is milliseconds; what cannot be read goes as -1, for the API to name. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  return match ? Math.round(Number(match[1]) * UNITS[(match[2] ?? 'ms').toLowerCase()]!) : -1;
}
/** 300000 → "5m": the largest unit that divides it. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms >= UNITS[unit]! && ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  return `${ms}ms`;
}
