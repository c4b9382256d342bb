/**
 * An evaluator of EventBridge Scheduler `cron(minutes hours day-of-month month day-of-week year)`
 * expressions as AWS documents them (day of week 1-7 = Sunday-Saturday, `?` = any, exactly one of
 * the day fields `?`), written apart from the product's conversion so that tests can check what a
 * converted expression means to EventBridge. It reads `*`, `?`, numbers, names (JAN-DEC,
 * SUN-SAT), `a-b`, `a/n`, `a-b/n`, `*\/n` and comma lists, and the day rules: `L` and `nW` in the
 * day of month (`nW`: the weekday nearest day n, not leaving the month; none in a month without a
 * day n), `nL`, `n#k` and `L` (Saturday) in the day of week. Every time is UTC.
 */
const RANGES = [[0, 59], [0, 23], [1, 31], [1, 12], [1, 7]] as const;
const NAMES: Readonly<Record<number, readonly string[]>> = {
  3: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  4: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};

type DayTest = (day: Date) => boolean;

export function eventBridgeNextRuns(expression: string, after: Date, count: number): Date[] {
  const match = /^cron\((.+)\)$/.exec(expression);
  if (!match) throw new Error(`not a cron() expression: ${expression}`);
  const parts = match[1].split(' ');
  if (parts.length !== 6) throw new Error(`cron() needs 6 fields: ${expression}`);
  if (parts[5] !== '*') throw new Error('only year * is read here');
  if ((parts[2] === '?') === (parts[4] === '?')) throw new Error(`exactly one day field must be ?: ${expression}`);
  const [minutes, hours, months] = [0, 1, 3].map((i) => values(parts[i], i));
  const dayOfMonth = dayOfMonthTest(parts[2]);
  const dayOfWeek = dayOfWeekTest(parts[4]);
  const runs: Date[] = [];
  const day = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate()));
  for (let days = 0; runs.length < count && days < 366 * 100; days += 1, day.setUTCDate(day.getUTCDate() + 1)) {
    if (!months.has(day.getUTCMonth() + 1) || !dayOfMonth(day) || !dayOfWeek(day)) continue;
    for (const hour of [...hours].sort((a, b) => a - b)) {
      for (const minute of [...minutes].sort((a, b) => a - b)) {
        const at = new Date(day.getTime() + (hour * 60 + minute) * 60_000);
        if (at > after && runs.length < count) runs.push(at);
      }
    }
  }
  return runs;
}

const lastDayOf = (day: Date): number => new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 0)).getUTCDate();

function dayOfMonthTest(field: string): DayTest {
  if (field === 'L') return (day) => day.getUTCDate() === lastDayOf(day);
  const weekday = /^(\d+)W$/.exec(field);
  if (weekday) {
    const target = Number(weekday[1]);
    return (day) => {
      const last = lastDayOf(day);
      if (target > last) return false;
      const at = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), target));
      const weekdayOfTarget = at.getUTCDay();
      let chosen = target;
      if (weekdayOfTarget === 6) chosen = target === 1 ? 3 : target - 1;
      if (weekdayOfTarget === 0) chosen = target === last ? target - 2 : target + 1;
      return day.getUTCDate() === chosen;
    };
  }
  const days = values(field, 2);
  return (day) => days.has(day.getUTCDate());
}

function dayOfWeekTest(field: string): DayTest {
  const last = /^(\d)L$/.exec(field);
  if (last) {
    const weekday = Number(last[1]) - 1;
    return (day) => day.getUTCDay() === weekday && day.getUTCDate() + 7 > lastDayOf(day);
  }
  const nth = /^(\d)#(\d)$/.exec(field);
  if (nth) {
    const [weekday, occurrence] = [Number(nth[1]) - 1, Number(nth[2])];
    return (day) => day.getUTCDay() === weekday && Math.ceil(day.getUTCDate() / 7) === occurrence;
  }
  const days = values(field === 'L' ? '7' : field, 4);
  return (day) => days.has(day.getUTCDay() + 1);
}

function values(field: string, index: number): Set<number> {
  const [min, max] = RANGES[index];
  const out = new Set<number>();
  if (field === '*' || field === '?') {
    for (let v = min; v <= max; v += 1) out.add(v);
    return out;
  }
  const read = (text: string): number => {
    const named = NAMES[index]?.indexOf(text.toUpperCase()) ?? -1;
    return named >= 0 ? named + 1 : Number(text);
  };
  for (const item of field.split(',')) {
    const [range, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    const [from, to] = range === '*' ? [min, max] : range.includes('-') ? range.split('-').map(read) : [read(range), stepText === undefined ? read(range) : max];
    if (![from, to, step].every(Number.isInteger) || from < min || to > max) throw new Error(`bad field ${field}`);
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}
