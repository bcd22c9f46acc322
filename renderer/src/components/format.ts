/**
 * Dates, durations and sizes in the reader's own locale and plain words. Plain TypeScript with no
 * DOM and no imports: the desktop shell's notifications (main/alerts.ts) use it too.
 */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatDate(ts: number): string {
  return new Date(ts).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

export function formatDateTime(ts: number): string {
  return new Date(ts).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "3 minutes ago", "in 12 days". */
export function relativeTime(ts: number, now = Date.now()): string {
  const diff = ts - now;
  const abs = Math.abs(diff);
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ['second', 1000],
    ['minute', 60_000],
    ['hour', 3_600_000],
    ['day', 86_400_000],
    ['month', 30 * 86_400_000],
    ['year', 365 * 86_400_000],
  ];
  if (abs < 45_000) return diff <= 0 ? 'just now' : 'in a moment';
  let unit: Intl.RelativeTimeFormatUnit = 'second';
  let size = 1000;
  for (const [u, ms] of steps) if (abs >= ms) [unit, size] = [u, ms];
  return new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }).format(Math.round(diff / size), unit);
}

/** Whole days from now until `ts` (negative when past). */
export function daysUntil(ts: number, now = Date.now()): number {
  return Math.floor((ts - now) / 86_400_000);
}

/** A localpart from a Matrix user id: @mum:smith.family → mum. */
export function localpart(userId: string): string {
  return userId.replace(/^@/, '').replace(/:.*$/, '');
}
