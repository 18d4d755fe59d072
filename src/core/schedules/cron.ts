import { daysInMonth, wallFields, wallTime, weekdayOf } from './calendar.js';
import type { CronSchedule, DayRule } from './cron-fields.js';

/**
 * The wall times a cron schedule matches, searched field by field (year, month, day, hour, minute)
 * rather than minute by minute: a search costs at most the years of the schedule times its months,
 * even for a schedule that never fires again. Time zones are time-zone.ts's business; this is the
 * calendar alone.
 */

/** The days of `month` the rule picks, ascending. */
export function daysMatching(rule: DayRule, year: number, month: number): number[] {
  const length = daysInMonth(year, month);
  switch (rule.type) {
    case 'days-of-month':
      return rule.days.filter((d) => d <= length);
    case 'last-day-of-month': {
      const day = length - rule.offset;
      return day >= 1 ? [day] : [];
    }
    case 'last-business-day-of-month':
      return [nearestBusinessDay(year, month, length, length)];
    case 'nearest-business-day':
      // A day the month lacks (31W in June) picks nothing, rather than a day of another month.
      return rule.day <= length ? [nearestBusinessDay(year, month, rule.day, length)] : [];
    case 'days-of-week': {
      const first = weekdayOf(year, month, 1);
      const out: number[] = [];
      for (let d = 1; d <= length; d++) if (rule.days.includes(((first - 1 + d - 1) % 7) + 1)) out.push(d);
      return out;
    }
    case 'last-day-of-week-in-month': {
      const lastWeekday = weekdayOf(year, month, length);
      return [length - ((lastWeekday - rule.dayOfWeek + 7) % 7)];
    }
    case 'nth-day-of-week-in-month': {
      const first = 1 + ((rule.dayOfWeek - weekdayOf(year, month, 1) + 7) % 7);
      const day = first + 7 * (rule.nth - 1);
      return day <= length ? [day] : [];
    }
  }
}

/**
 * Quartz's `W`: a Saturday moves to the Friday before and a Sunday to the Monday after, unless that
 * leaves the month: then the 1st on a Saturday is Monday the 3rd, a last day on a Sunday the Friday
 * two days before.
 */
function nearestBusinessDay(year: number, month: number, day: number, length: number): number {
  const weekday = weekdayOf(year, month, day);
  if (weekday === 7) return day === 1 ? 3 : day - 1;
  if (weekday === 1) return day === length ? day - 2 : day + 1;
  return day;
}

/** The first wall time at or after `from` (a whole minute) that the schedule matches, or null past its last year. */
export function nextMatch(schedule: CronSchedule, from: number): number | null {
  const f = wallFields(from);
  for (const year of schedule.years) {
    if (year < f.year) continue;
    const sameYear = year === f.year;
    for (const month of schedule.months) {
      if (sameYear && month < f.month) continue;
      const sameMonth = sameYear && month === f.month;
      for (const day of daysMatching(schedule.days, year, month)) {
        if (sameMonth && day < f.day) continue;
        const sameDay = sameMonth && day === f.day;
        for (const hour of schedule.hours) {
          if (sameDay && hour < f.hour) continue;
          const sameHour = sameDay && hour === f.hour;
          const minute = schedule.minutes.find((m) => !sameHour || m >= f.minute);
          if (minute !== undefined) return wallTime(year, month, day, hour, minute);
        }
      }
    }
  }
  return null;
}

/** The last wall time at or before `from` (a whole minute) that the schedule matches, or null before its first year. */
export function previousMatch(schedule: CronSchedule, from: number): number | null {
  const f = wallFields(from);
  for (const year of reversed(schedule.years)) {
    if (year > f.year) continue;
    const sameYear = year === f.year;
    for (const month of reversed(schedule.months)) {
      if (sameYear && month > f.month) continue;
      const sameMonth = sameYear && month === f.month;
      for (const day of reversed(daysMatching(schedule.days, year, month))) {
        if (sameMonth && day > f.day) continue;
        const sameDay = sameMonth && day === f.day;
        for (const hour of reversed(schedule.hours)) {
          if (sameDay && hour > f.hour) continue;
          const sameHour = sameDay && hour === f.hour;
          const minute = schedule.minutes.findLast((m) => !sameHour || m <= f.minute);
          if (minute !== undefined) return wallTime(year, month, day, hour, minute);
        }
      }
    }
  }
  return null;
}

function reversed<T>(values: readonly T[]): T[] {
  return [...values].reverse();
}
