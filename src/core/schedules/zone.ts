/**
 * Wall-clock time in an IANA time zone, from the offsets `Intl` knows (no I/O). A local time that a
 * spring-forward skips is taken as the same time after the gap (02:30 becomes 03:30); one that a
 * fall-back repeats is taken at its first occurrence, so a schedule fires once.
 */
import type { LocalTime } from './expression.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether `Intl` knows the zone. */
export function validTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function toLocal(ms: number, timeZone: string): LocalTime {
  if (timeZone === 'UTC') {
    const d = new Date(ms);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']), hour: Number(parts['hour']), minute: Number(parts['minute']), second: Number(parts['second']) };
}

const asUtc = (l: LocalTime): number => Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
const offset = (ms: number, timeZone: string): number => asUtc(toLocal(ms, timeZone)) - Math.floor(ms / 1000) * 1000;

export function fromLocal(local: LocalTime, timeZone: string): number {
  const wall = asUtc(local);
  if (timeZone === 'UTC') return wall;
  const before = offset(wall - 43_200_000, timeZone);
  const after = offset(wall + 43_200_000, timeZone);
  // The larger offset first: of two instants with this wall time, the earlier.
  for (const o of [Math.max(before, after), Math.min(before, after)]) {
    const t = wall - o;
    if (asUtc(toLocal(t, timeZone)) === wall) return t;
  }
  // Skipped by a spring-forward: the same wall time after the gap.
  return wall - Math.min(before, after);
}
