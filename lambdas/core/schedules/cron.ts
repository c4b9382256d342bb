/**
 * A job configuration's `run_at`: a 5-field cron expression (minute, hour, day of month, month,
 * day of week), read once here into what each field allows. The two schedulers get it from
 * here (cron-expressions.ts): EventBridge Scheduler as a 6-field `cron(...)`, the local scheduler
 * as a croner pattern, both written from this reading so that they cannot read it apart.
 *
 * Syntax of each field: `*`, a number, a range `a-b`, a step `*\/n` or `a-b/n` or `a/n` (from a to
 * the field's maximum), and comma lists of those. Months may be named JAN-DEC and days of the
 * week SUN-SAT, in any case. Day of week: 0-7, Sunday being 0 and 7. `?` is a wildcard allowed in
 * the day-of-month and day-of-week fields only. EventBridge Scheduler's day rules, each standing
 * alone in its field: `L` (the last day of the month) and `15W` (the weekday nearest the 15th,
 * within the month) in the day of month; `5L` (the last Friday of the month), `5#2` (the second
 * Friday) and `L` alone (Saturday, the last day of the week) in the day of week.
 *
 * Semantics are Vixie cron's: a time matches when minute, hour and month match and the day
 * matches. With day of month and day of week both restricted, cron runs on either (OR), which
 * EventBridge cannot express (one of them must be `?` there): such an expression is refused.
 */
import { ValidationError } from '../errors';

export const RUN_AT_FIELD = 'run_at';

/** Which days of the month a schedule runs on. */
export type DayOfMonthRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'days'; readonly days: readonly number[] }
  | { readonly kind: 'last' }
  /** The weekday (Monday-Friday) nearest `day`, never crossing into another month. */
  | { readonly kind: 'nearestWeekday'; readonly day: number };

/** Which days of the week (0 = Sunday … 6 = Saturday) a schedule runs on. */
export type DayOfWeekRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'days'; readonly days: readonly number[] }
  /** The last `day` of the month. */
  | { readonly kind: 'last'; readonly day: number }
  /** The `nth` (1-5) `day` of the month. */
  | { readonly kind: 'nth'; readonly day: number; readonly nth: number };

export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: DayOfMonthRule;
  readonly months: readonly number[];
  readonly daysOfWeek: DayOfWeekRule;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names of the values from `min` on (JAN = 1, SUN = 0). */
  readonly names?: readonly string[];
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day of month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTH_NAMES };
const DAY_OF_WEEK: FieldSpec = { name: 'day of week', min: 0, max: 7, names: DAY_NAMES };

/** Longest month (February with its 29th), for expressions that can never run. */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `run_at` → its schedule; a ValidationError naming `run_at` and saying what is wrong otherwise. */
export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== 'string') throw invalid('must be a string');
  const parts = expression.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 5) {
    throw invalid(`must have 5 fields (minute hour day-of-month month day-of-week), not ${parts.length}: ${JSON.stringify(expression)}`);
  }
  const [minuteText, hourText, domText, monthText, dowText] = parts;
  const schedule: CronSchedule = {
    minutes: sorted(parseValues(minuteText, MINUTE)),
    hours: sorted(parseValues(hourText, HOUR)),
    daysOfMonth: parseDayOfMonth(domText),
    months: sorted(parseValues(monthText, MONTH)),
    daysOfWeek: parseDayOfWeek(dowText),
  };
  if (schedule.daysOfMonth.kind !== 'any' && schedule.daysOfWeek.kind !== 'any') {
    throw invalid(
      `day of month (${domText}) and day of week (${dowText}) cannot both be restricted: cron would run on either, which EventBridge Scheduler cannot express; put ? in one of them`,
    );
  }
  const days = schedule.daysOfMonth.kind === 'days' ? schedule.daysOfMonth.days : schedule.daysOfMonth.kind === 'nearestWeekday' ? [schedule.daysOfMonth.day] : [];
  if (days.length > 0 && !days.some((day) => schedule.months.some((month) => day <= DAYS_IN_MONTH[month - 1]))) {
    throw invalid(`day of month ${domText} never occurs in month ${monthText}`);
  }
  return schedule;
}

function parseDayOfMonth(text: string): DayOfMonthRule {
  if (text === '?') return { kind: 'any' };
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'last' };
  const weekday = /^(\d{1,2})W$/.exec(upper);
  if (weekday) return { kind: 'nearestWeekday', day: number(weekday[1], DAY_OF_MONTH) };
  if (/[LW]/.test(upper)) {
    throw invalid(`day of month field: ${JSON.stringify(text)}: L (the last day) and nW (the weekday nearest day n, e.g. 15W) stand alone in the field`);
  }
  const days = parseValues(text, DAY_OF_MONTH);
  return days.size === 31 ? { kind: 'any' } : { kind: 'days', days: sorted(days) };
}

function parseDayOfWeek(text: string): DayOfWeekRule {
  if (text === '?') return { kind: 'any' };
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'days', days: [6] };
  const nth = /^([^#,/-]+)#([^#]*)$/.exec(upper);
  if (nth) {
    return { kind: 'nth', day: value(nth[1], DAY_OF_WEEK) % 7, nth: number(nth[2], { name: 'day of week', min: 1, max: 5 }, 'occurrence after #') };
  }
  const last = /^([^#,/-]+)L$/.exec(upper);
  if (last) return { kind: 'last', day: value(last[1], DAY_OF_WEEK) % 7 };
  if (/[#L]/.test(upper)) {
    throw invalid(`day of week field: ${JSON.stringify(text)}: nL (the last day n of the month, e.g. 5L), n#k (the k-th day n, e.g. 5#2) and L stand alone in the field`);
  }
  const days = new Set([...parseValues(text, DAY_OF_WEEK)].map((d) => d % 7));
  return days.size === 7 ? { kind: 'any' } : { kind: 'days', days: sorted(days) };
}

function parseValues(text: string, spec: FieldSpec): Set<number> {
  if (text === '?') {
    throw invalid(`? is allowed in the day-of-month and day-of-week fields only, not in the ${spec.name} field`);
  }
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [rangeText, stepText, ...rest] = item.split('/');
    if (rest.length > 0 || rangeText === '') throw invalid(`${spec.name} field: cannot read ${JSON.stringify(item)}`);
    const step = stepText === undefined ? 1 : number(stepText, spec, 'step', 1, spec.max - spec.min + 1);
    let from: number;
    let to: number;
    if (rangeText === '*') {
      [from, to] = [spec.min, spec.max];
    } else if (rangeText.includes('-')) {
      const [a, b, ...more] = rangeText.split('-');
      if (more.length > 0) throw invalid(`${spec.name} field: cannot read the range ${JSON.stringify(rangeText)}`);
      [from, to] = [value(a, spec), value(b, spec)];
      if (from > to) throw invalid(`${spec.name} field: the range ${rangeText} runs backwards`);
    } else {
      from = value(rangeText, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** A number or, in the month and day-of-week fields, a name (case-insensitive). */
function value(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return (spec.name === 'month' ? 1 : 0) + named;
  return number(text, spec);
}

function number(text: string, spec: FieldSpec, what = 'value', min = spec.min, max = spec.max): number {
  if (!/^\d{1,2}$/.test(text)) {
    const names = spec.names === undefined ? '' : ` or a name ${spec.names[0]}-${spec.names[spec.names.length - 1]}`;
    throw invalid(`${spec.name} field: ${JSON.stringify(text)} is not a number${names} (see the README's Schedules section for what each field takes)`);
  }
  const n = Number(text);
  if (n < min || n > max) throw invalid(`${spec.name} field: ${what} ${n} is outside ${min}-${max}`);
  return n;
}

function sorted(values: Set<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

function invalid(message: string): ValidationError {
  return new ValidationError(message, RUN_AT_FIELD);
}
