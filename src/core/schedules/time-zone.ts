import { PlatformError } from '../errors.js';
import { DAY_MS } from './calendar.js';

/**
 * IANA time zones through `Intl.DateTimeFormat`: the runtime's own tz database (ICU), no I/O and no
 * dependency. A zone's offset at an instant is read from the wall clock ICU shows for it; turning a
 * wall time back into instants tries the offsets in force a day before and a day after, which finds
 * the zero (a spring-forward gap), one, or two (a fall-back overlap) instants that show it.
 */

export const UTC = 'UTC';

/** Our own text: no recorded AWS answer for a zone it does not know. */
export const TIME_ZONE_MESSAGE = (timeZone: string) => `Invalid ScheduleExpressionTimezone ${timeZone}.`;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      return undefined;
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Checks a `ScheduleExpressionTimezone`: an IANA zone name (`Europe/Paris`, `UTC`, `Etc/GMT+5`, and
 * the database's aliases such as `US/Eastern`), spelled with its own capitals. Numeric offsets
 * (`+02:00`), which newer runtimes also accept, are refused: they are not zone names. Throws
 * `PlatformError('VALIDATION')` otherwise; returns the name as given.
 */
export function checkTimeZone(timeZone: string): string {
  if (!isTimeZone(timeZone)) throw new PlatformError('VALIDATION', TIME_ZONE_MESSAGE(timeZone), { reason: 'not a time zone of the IANA database', timeZone });
  return timeZone;
}

export function isTimeZone(timeZone: string): boolean {
  if (timeZone === UTC) return true;
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,49}$/.test(timeZone)) return false;
  const f = formatter(timeZone);
  if (!f) return false;
  // ICU matches names regardless of case (europe/paris); the database and AWS's Java do not.
  const resolved = f.resolvedOptions().timeZone;
  return resolved === timeZone || resolved.toLowerCase() !== timeZone.toLowerCase();
}

/** The zone's offset from UTC at `instant`, in milliseconds (+3 600 000 for Paris in winter). */
export function offsetAt(instant: number, timeZone: string): number {
  if (timeZone === UTC) return 0;
  const f = formatter(timeZone);
  if (!f) throw new PlatformError('VALIDATION', TIME_ZONE_MESSAGE(timeZone), { reason: 'not a time zone of the IANA database', timeZone });
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(instant)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const d = new Date(0);
  d.setUTCFullYear(p.year!, p.month! - 1, p.day!);
  const shown = d.setUTCHours(p.hour!, p.minute!, p.second!, 0);
  const wholeSecond = instant - (((instant % 1000) + 1000) % 1000);
  return shown - wholeSecond;
}

/** The wall time (calendar.ts) the zone's clocks show at `instant`. */
export function wallAt(instant: number, timeZone: string): number {
  return instant + offsetAt(instant, timeZone);
}

/**
 * The instants at which the zone's clocks show `wall`, earliest first: none in a spring-forward gap,
 * two in a fall-back overlap. (Two changes of offset within two days would hide one; no zone of the
 * database has had such since 1970.)
 */
export function instantsAt(wall: number, timeZone: string): number[] {
  if (timeZone === UTC) return [wall];
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const out: number[] = [];
  // The larger offset gives the earlier instant.
  for (const offset of before === after ? [before] : [Math.max(before, after), Math.min(before, after)]) {
    if (offsetAt(wall - offset, timeZone) === offset) out.push(wall - offset);
  }
  return out;
}

/**
 * The instant a one-time schedule's wall time means: the earlier one in an overlap, and in a gap
 * the instant as far past the gap's start as the wall time is (02:30 in a 02:00→03:00 gap is 03:30),
 * as java.time and Temporal resolve it ("compatible").
 */
export function resolveWall(wall: number, timeZone: string): number {
  const instants = instantsAt(wall, timeZone);
  if (instants.length > 0) return instants[0]!;
  return wall - offsetAt(wall - DAY_MS, timeZone);
}
