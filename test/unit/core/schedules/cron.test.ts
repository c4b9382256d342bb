import { Cron } from 'croner';
import { parseCron } from '../../../../lambdas/core/schedules/cron';
import { toCronerPattern, toEventBridgeCron } from '../../../../lambdas/core/schedules/cron-expressions';
import { ValidationError } from '../../../../lambdas/core/errors';
import { eventBridgeNextRuns } from '../../../helpers/event-bridge-cron';

/** What the local scheduler runs: croner on the pattern written from `run_at`, UTC. */
function cronerNextRuns(pattern: string, after: Date, count: number): Date[] {
  return new Cron(pattern, { timezone: 'UTC', mode: '5-part', paused: true }).nextRuns(count, after);
}

describe('run_at conversion to EventBridge Scheduler', () => {
  it.each([
    ['* * * * *', 'cron(* * * * ? *)'],
    ['*/15 * * * *', 'cron(0,15,30,45 * * * ? *)'],
    ['0 3 * * ?', 'cron(0 3 * * ? *)'],
    ['0 3 ? * *', 'cron(0 3 * * ? *)'],
    ['30 2 1 * ?', 'cron(30 2 1 * ? *)'],
    ['30 2 1 * *', 'cron(30 2 1 * ? *)'],
    ['0 9 ? * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 0 * * 0', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 7', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 5-7', 'cron(0 0 ? * 1,6,7 *)'],
    ['0 0 * * */2', 'cron(0 0 ? * 1,3,5,7 *)'],
    ['5 0-23/6 15 1,4,7,10 ?', 'cron(5 0,6,12,18 15 1,4,7,10 ? *)'],
    ['0 12 1-7 * ?', 'cron(0 12 1-7 * ? *)'],
    ['10/20 * * * *', 'cron(10,30,50 * * * ? *)'],
    ['0 9 ? * MON-FRI', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 ? * mon-Fri', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 ? * sun,SAT', 'cron(0 9 ? * 1,7 *)'],
    ['0 0 1 jan,JUL ?', 'cron(0 0 1 1,7 ? *)'],
    ['0 0 1 MAR-may ?', 'cron(0 0 1 3-5 ? *)'],
    ['0 0 L * ?', 'cron(0 0 L * ? *)'],
    ['0 0 l * *', 'cron(0 0 L * ? *)'],
    ['0 0 15W * ?', 'cron(0 0 15W * ? *)'],
    ['15 10 ? * 5L', 'cron(15 10 ? * 6L *)'],
    ['15 10 ? * friL', 'cron(15 10 ? * 6L *)'],
    ['0 12 ? * 1#2', 'cron(0 12 ? * 2#2 *)'],
    ['0 12 ? * MON#1', 'cron(0 12 ? * 2#1 *)'],
    ['0 12 * * 7#3', 'cron(0 12 ? * 1#3 *)'],
    ['0 0 ? * L', 'cron(0 0 ? * 7 *)'],
  ])('%s → %s', (runAt, expected) => {
    expect(toEventBridgeCron(runAt)).toBe(expected);
  });

  // Arrange: expressions with ?, day-of-week numbering (0 and 7 are Sunday), ranges, steps, lists.
  const expressions = [
    '* * * * *', '*/7 * * * *', '0 3 * * ?', '0 3 ? * *', '30 2 1 * ?', '0 9 ? * 1-5', '0 0 * * 0', '0 0 * * 7',
    '0 0 * * 5-7', '0 0 * * */2', '15 14 ? * 6', '5 0-23/6 15 1,4,7,10 ?', '0 12 1-7 * ?', '0 0 29 2 ?', '0 0 31 * ?', '59 23 ? 12 0,6',
    // names, and EventBridge's day rules
    '0 9 ? * MON-FRI', '30 6 ? jan,jul Sat,sun', '0 0 1 FEB-apr ?', '0 0 L * ?', '0 0 L FEB ?', '0 0 15W * ?', '0 0 1W * ?', '0 0 31W * ?',
    '0 0 30W 1-3 ?', '15 10 ? * 5L', '0 0 ? * SUNL', '0 12 ? * 1#2', '0 12 ? * MON#5', '0 12 ? feb,MAR 0#5', '0 0 ? * L',
  ];
  it.each(expressions)('%s: croner (local) and the converted EventBridge expression agree on the next 10 runs', (runAt) => {
    const after = new Date('2026-12-01T21:17:30Z');
    // Act
    const local = cronerNextRuns(toCronerPattern(runAt), after, 10).map((d) => d.toISOString());
    const onAws = eventBridgeNextRuns(toEventBridgeCron(runAt), after, 10).map((d) => d.toISOString());
    // Assert
    expect(local).toHaveLength(10);
    expect(onAws).toEqual(local);
  });

  // Arrange: expressions croner reads as written (? taken as *), to show the pattern written for it means what the expression says.
  const cronerReadable = ['0 9 ? * MON-FRI', '30 6 * jan,jul Sat,sun', '0 0 L * ?', '0 0 15W * ?', '15 10 ? * 5L', '0 12 ? * MON#2', '*/7 * * * *', '0 0 * * 5-7'];
  it.each(cronerReadable)('%s: croner reads the written pattern as it reads the expression itself', (runAt) => {
    const after = new Date('2026-12-01T21:17:30Z');
    // Act
    const written = cronerNextRuns(toCronerPattern(runAt), after, 10).map((d) => d.toISOString());
    const asGiven = cronerNextRuns(runAt.replace(/\?/g, '*'), after, 10).map((d) => d.toISOString());
    // Assert
    expect(written).toHaveLength(10);
    expect(written).toEqual(asGiven);
  });
});

describe('run_at validation', () => {
  it.each([
    ['* * * *', /run_at: must have 5 fields.*not 4/],
    ['* * * * * *', /run_at: must have 5 fields.*not 6/],
    ['', /run_at: must have 5 fields/],
    ['60 * * * *', /run_at: minute field: value 60 is outside 0-59/],
    ['* 24 * * *', /run_at: hour field: value 24 is outside 0-23/],
    ['* * 0 * *', /run_at: day of month field: value 0 is outside 1-31/],
    ['* * * 13 *', /run_at: month field: value 13 is outside 1-12/],
    ['* * * * 8', /run_at: day of week field: value 8 is outside 0-7/],
    ['? * * * *', /run_at: \? is allowed in the day-of-month and day-of-week fields only, not in the minute field/],
    ['L * * * *', /run_at: minute field: "L" is not a number \(/],
    ['0 0 ? FOO *', /run_at: month field: "FOO" is not a number or a name JAN-DEC/],
    ['0 0 ? * MOND', /run_at: day of week field: "MOND" is not a number or a name SUN-SAT/],
    ['0 0 ? * FRI-MON', /run_at: day of week field: the range FRI-MON runs backwards/],
    ['0 0 LW * ?', /run_at: day of month field: "LW": L \(the last day\) and nW .* stand alone in the field/],
    ['0 0 1,L * ?', /run_at: day of month field: "1,L": L \(the last day\)/],
    ['0 0 1-5W * ?', /run_at: day of month field: "1-5W"/],
    ['0 0 32W * ?', /run_at: day of month field: value 32 is outside 1-31/],
    ['0 0 31W 2 ?', /run_at: day of month 31W never occurs in month 2/],
    ['0 0 ? * 1#2,3#1', /run_at: day of week field: "1#2,3#1": nL .*, n#k .* and L stand alone in the field/],
    ['0 0 ? * 1-5L', /run_at: day of week field: "1-5L"/],
    ['0 0 ? * 1#6', /run_at: day of week field: occurrence after # 6 is outside 1-5/],
    ['0 0 ? * 8L', /run_at: day of week field: value 8 is outside 0-7/],
    ['0 0 15W * MON', /run_at: day of month \(15W\) and day of week \(MON\) cannot both be restricted/],
    ['0 0 L * 5#2', /run_at: day of month \(L\) and day of week \(5#2\) cannot both be restricted/],
    ['*/0 * * * *', /run_at: minute field: step 0 is outside 1-60/],
    ['5-2 * * * *', /run_at: minute field: the range 5-2 runs backwards/],
    ['1,,2 * * * *', /run_at: minute field: cannot read ""/],
    ['0 0 1 * 1', /run_at: day of month \(1\) and day of week \(1\) cannot both be restricted.*put \? in one of them/],
    ['0 0 30 2 ?', /run_at: day of month 30 never occurs in month 2/],
  ])('%s is refused: %s', (runAt, message) => {
    expect(() => parseCron(runAt)).toThrow(ValidationError);
    expect(() => parseCron(runAt)).toThrow(message);
  });

  it('reads ? as any in either day field', () => {
    expect(parseCron('0 0 ? * ?')).toEqual({ minutes: [0], hours: [0], daysOfMonth: { kind: 'any' }, months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], daysOfWeek: { kind: 'any' } });
  });

  it('reads names in any case and the day rules', () => {
    expect(parseCron('0 0 ? Jul-aug fri#3')).toMatchObject({ months: [7, 8], daysOfMonth: { kind: 'any' }, daysOfWeek: { kind: 'nth', day: 5, nth: 3 } });
    expect(parseCron('0 0 ? * 7L')).toMatchObject({ daysOfWeek: { kind: 'last', day: 0 } });
    expect(parseCron('0 0 20w * ?')).toMatchObject({ daysOfMonth: { kind: 'nearestWeekday', day: 20 } });
  });
});
