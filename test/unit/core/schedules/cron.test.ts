import { Cron } from 'croner';
import { parseCron, toEventBridgeCron, withoutQuestionMarks } from '../../../../lambdas/core/schedules/cron';
import { ValidationError } from '../../../../lambdas/core/errors';
import { eventBridgeNextRuns } from '../../../helpers/event-bridge-cron';

/** What the local scheduler runs: croner on the 5-field expression, UTC, Vixie cron's day rule. */
function cronerNextRuns(expression: string, after: Date, count: number): Date[] {
  return new Cron(withoutQuestionMarks(expression), { timezone: 'UTC', mode: '5-part', paused: true }).nextRuns(count, after);
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
  ])('%s → %s', (runAt, expected) => {
    expect(toEventBridgeCron(runAt)).toBe(expected);
  });

  // Arrange: expressions with ?, day-of-week numbering (0 and 7 are Sunday), ranges, steps, lists.
  const expressions = [
    '* * * * *', '*/7 * * * *', '0 3 * * ?', '0 3 ? * *', '30 2 1 * ?', '0 9 ? * 1-5', '0 0 * * 0', '0 0 * * 7',
    '0 0 * * 5-7', '0 0 * * */2', '15 14 ? * 6', '5 0-23/6 15 1,4,7,10 ?', '0 12 1-7 * ?', '0 0 29 2 ?', '0 0 31 * ?', '59 23 ? 12 0,6',
  ];
  it.each(expressions)('%s: croner (local) and the converted EventBridge expression agree on the next 10 runs', (runAt) => {
    const after = new Date('2026-12-01T21:17:30Z');
    // Act
    const local = cronerNextRuns(runAt, after, 10).map((d) => d.toISOString());
    const onAws = eventBridgeNextRuns(toEventBridgeCron(runAt), after, 10).map((d) => d.toISOString());
    // Assert
    expect(local).toHaveLength(10);
    expect(onAws).toEqual(local);
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
    ['* * * * MON', /run_at: day of week field: "MON" is not a number/],
    ['0 0 L * ?', /run_at: day of month field: "L" is not a number/],
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
    expect(parseCron('0 0 ? * ?')).toEqual({ minutes: [0], hours: [0], daysOfMonth: 'any', months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], daysOfWeek: 'any' });
  });
});
