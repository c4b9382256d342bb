/**
 * A job configuration's `run_at`: a 5-field cron expression (minute, hour, day of month, month,
 * day of week), read once here into the sets of values it allows, and turned into the 6-field
 * `cron(...)` expression EventBridge Scheduler takes.
 *
 * Syntax of each field: `*`, a number, a range `a-b`, a step `*\/n` or `a-b/n` or `a/n` (from a to
 * the field's maximum), and comma lists of those. `?` is a wildcard allowed in the day-of-month
 * and day-of-week fields only (as in EventBridge). Day of week: 0-7, Sunday being 0 and 7.
 * Names (MON, JAN) and EventBridge's `L`, `W`, `#` are not accepted.
 *
 * Semantics are Vixie cron's: a time matches when minute, hour and month match and the day
 * matches. With day of month and day of week both restricted, cron runs on either (OR), which
 * EventBridge cannot express (one of them must be `?` there): such an expression is refused.
 */
import { ValidationError } from '../errors';

export const RUN_AT_FIELD = 'run_at';

/** The values each field allows; a day field that allows every value is `'any'`. */
export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[] | 'any';
  readonly months: readonly number[];
  /** 0 = Sunday … 6 = Saturday. */
  readonly daysOfWeek: readonly number[] | 'any';
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly question?: boolean;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7, question: true },
];

/** `run_at` → its schedule; a ValidationError naming `run_at` and saying what is wrong otherwise. */
export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== 'string') throw invalid('must be a string');
  const parts = expression.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== FIELDS.length) {
    throw invalid(`must have 5 fields (minute hour day-of-month month day-of-week), not ${parts.length}: ${JSON.stringify(expression)}`);
  }
  const [minutes, hours, daysOfMonth, months, rawDaysOfWeek] = parts.map((part, i) => parseField(part, FIELDS[i]));
  const daysOfWeek = new Set([...rawDaysOfWeek].map((d) => d % 7));
  const domAny = daysOfMonth.size === 31;
  const dowAny = daysOfWeek.size === 7;
  if (!domAny && !dowAny) {
    throw invalid(
      `day of month (${parts[2]}) and day of week (${parts[4]}) cannot both be restricted: cron would run on either, which EventBridge Scheduler cannot express; put ? in one of them`,
    );
  }
  if (!domAny && ![...daysOfMonth].some((day) => [...months].some((month) => day <= DAYS_IN_MONTH[month - 1]))) {
    throw invalid(`day of month ${parts[2]} never occurs in month ${parts[3]}`);
  }
  return {
    minutes: sorted(minutes),
    hours: sorted(hours),
    daysOfMonth: domAny ? 'any' : sorted(daysOfMonth),
    months: sorted(months),
    daysOfWeek: dowAny ? 'any' : sorted(daysOfWeek),
  };
}

/** Longest month (February with its 29th), for expressions that can never run. */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The EventBridge Scheduler expression of `run_at`: `cron(minutes hours day-of-month month
 * day-of-week year)`, day of week 1-7 = Sunday-Saturday, exactly one of the day fields `?`.
 * Every field is written as explicit values (ranges where consecutive), so that no step or range
 * is read differently on the two sides.
 */
export function toEventBridgeCron(expression: string): string {
  const schedule = parseCron(expression);
  const dayOfMonth = schedule.daysOfMonth === 'any' ? (schedule.daysOfWeek === 'any' ? '*' : '?') : list(schedule.daysOfMonth, 1, 31);
  const dayOfWeek = schedule.daysOfWeek === 'any' ? '?' : list(schedule.daysOfWeek.map((d) => d + 1), 1, 7);
  return `cron(${list(schedule.minutes, 0, 59)} ${list(schedule.hours, 0, 23)} ${dayOfMonth} ${list(schedule.months, 1, 12)} ${dayOfWeek} *)`;
}

/** The same expression with `?` written as `*` (what cron libraries without `?` read as intended). */
export function withoutQuestionMarks(expression: string): string {
  return expression.trim().split(/\s+/).map((part) => (part === '?' ? '*' : part)).join(' ');
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  if (text === '?') {
    if (!spec.question) throw invalid(`? is allowed in the day-of-month and day-of-week fields only, not in the ${spec.name} field`);
    for (let v = spec.min; v <= spec.max; v += 1) values.add(v);
    return values;
  }
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
      [from, to] = [number(a, spec), number(b, spec)];
      if (from > to) throw invalid(`${spec.name} field: the range ${rangeText} runs backwards`);
    } else {
      from = number(rangeText, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function number(text: string, spec: FieldSpec, what = 'value', min = spec.min, max = spec.max): number {
  if (!/^\d{1,2}$/.test(text)) throw invalid(`${spec.name} field: ${JSON.stringify(text)} is not a number (only * / , - and ? in the day fields are allowed)`);
  const n = Number(text);
  if (n < min || n > max) throw invalid(`${spec.name} field: ${what} ${n} is outside ${min}-${max}`);
  return n;
}

function sorted(values: Set<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

/** `*` when `values` are every value of the field, else a comma list with runs written as ranges. */
function list(values: readonly number[], min: number, max: number): string {
  if (values.length === max - min + 1) return '*';
  const out: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j += 1;
    out.push(j - i >= 2 ? `${values[i]}-${values[j]}` : values.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return out.join(',');
}

function invalid(message: string): ValidationError {
  return new ValidationError(message, RUN_AT_FIELD);
}
