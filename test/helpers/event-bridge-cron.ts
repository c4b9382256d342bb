/**
 * An evaluator of EventBridge Scheduler `cron(minutes hours day-of-month month day-of-week year)`
 * expressions as AWS documents them (day of week 1-7 = Sunday-Saturday, `?` = any, exactly one of
 * the day fields `?`), written apart from the product's conversion so that tests can check what a
 * converted expression means to EventBridge. It reads `*`, `?`, numbers, `a-b`, `a/n`, `a-b/n`, `*\/n`
 * and comma lists; every time is UTC.
 */
const RANGES = [[0, 59], [0, 23], [1, 31], [1, 12], [1, 7]] as const;

export function eventBridgeNextRuns(expression: string, after: Date, count: number): Date[] {
  const match = /^cron\((.+)\)$/.exec(expression);
  if (!match) throw new Error(`not a cron() expression: ${expression}`);
  const parts = match[1].split(' ');
  if (parts.length !== 6) throw new Error(`cron() needs 6 fields: ${expression}`);
  if (parts[5] !== '*') throw new Error('only year * is read here');
  if ((parts[2] === '?') === (parts[4] === '?')) throw new Error(`exactly one day field must be ?: ${expression}`);
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.slice(0, 5).map((part, i) => values(part, RANGES[i][0], RANGES[i][1]));
  const runs: Date[] = [];
  const day = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate()));
  for (let days = 0; runs.length < count && days < 366 * 100; days += 1, day.setUTCDate(day.getUTCDate() + 1)) {
    if (!months.has(day.getUTCMonth() + 1) || !daysOfMonth.has(day.getUTCDate()) || !daysOfWeek.has(day.getUTCDay() + 1)) continue;
    for (const hour of [...hours].sort((a, b) => a - b)) {
      for (const minute of [...minutes].sort((a, b) => a - b)) {
        const at = new Date(day.getTime() + (hour * 60 + minute) * 60_000);
        if (at > after && runs.length < count) runs.push(at);
      }
    }
  }
  return runs;
}

function values(field: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  if (field === '*' || field === '?') {
    for (let v = min; v <= max; v += 1) out.add(v);
    return out;
  }
  for (const item of field.split(',')) {
    const [range, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    const [from, to] = range === '*' ? [min, max] : range.includes('-') ? range.split('-').map(Number) : [Number(range), stepText === undefined ? Number(range) : max];
    if (![from, to, step].every(Number.isInteger) || from < min || to > max) throw new Error(`bad field ${field}`);
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}
