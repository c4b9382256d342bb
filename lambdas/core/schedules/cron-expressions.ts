/**
 * `run_at` written for the two schedulers that run it, both from the one reading of cron.ts:
 * EventBridge Scheduler on AWS and croner in `npm start` (lambdas/local/local-scheduler.ts).
 * Every field is written as explicit numbers (names resolved, runs of values as ranges, steps
 * expanded), so that neither side reads a name, a step or a range differently; only the day rules
 * (`L`, `W`, `#`) are written in each scheduler's own spelling of them.
 */
import { type CronSchedule, parseCron } from './cron';

/**
 * The EventBridge Scheduler expression of `run_at`: `cron(minutes hours day-of-month month
 * day-of-week year)`, day of week 1-7 = Sunday-Saturday, exactly one of the day fields `?`.
 */
export function toEventBridgeCron(expression: string): string {
  const schedule = parseCron(expression);
  const { daysOfMonth: dom, daysOfWeek: dow } = schedule;
  const dayOfMonth =
    dom.kind === 'any' ? (dow.kind === 'any' ? '*' : '?') : dom.kind === 'days' ? list(dom.days, 1, 31) : dom.kind === 'last' ? 'L' : `${dom.day}W`;
  const dayOfWeek =
    dow.kind === 'any'
      ? '?'
      : dow.kind === 'days'
        ? list(dow.days.map((d) => d + 1), 1, 7)
        : dow.kind === 'last'
          ? `${dow.day + 1}L`
          : `${dow.day + 1}#${dow.nth}`;
  return `cron(${times(schedule)} ${dayOfMonth} ${list(schedule.months, 1, 12)} ${dayOfWeek} *)`;
}

/**
 * The croner pattern of `run_at` (5 fields, day of week 0-6 = Sunday-Saturday, `5#L` for the
 * last Friday): what the local scheduler runs.
 */
export function toCronerPattern(expression: string): string {
  const schedule = parseCron(expression);
  const { daysOfMonth: dom, daysOfWeek: dow } = schedule;
  const dayOfMonth = dom.kind === 'any' ? '*' : dom.kind === 'days' ? list(dom.days, 1, 31) : dom.kind === 'last' ? 'L' : `${dom.day}W`;
  const dayOfWeek = dow.kind === 'any' ? '*' : dow.kind === 'days' ? list(dow.days, 0, 6) : dow.kind === 'last' ? `${dow.day}#L` : `${dow.day}#${dow.nth}`;
  return `${times(schedule)} ${dayOfMonth} ${list(schedule.months, 1, 12)} ${dayOfWeek}`;
}

function times(schedule: CronSchedule): string {
  return `${list(schedule.minutes, 0, 59)} ${list(schedule.hours, 0, 23)}`;
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
