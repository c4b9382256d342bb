/**
 * Schedules on AWS as `npx cdk synth` builds them: the schedule group, the job-runner function, the
 * role EventBridge Scheduler assumes (invoking that function only), the dead-letter queue and its
 * alarm, and what the job configuration routes may do with them; cdk-nag stays clean.
 */
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { ENV } from '../../lambdas/contract/env';
import { routes } from '../../lambdas/contract/routes';
import { statementsOf, synthesizeApp, templateOf, unsuppressedNagFindings } from './fixtures';

const app = synthesizeApp();
const jobs = app.stack.jobScheduling;
const template = templateOf(app, jobs);
const resolve = (value: unknown): unknown => Stack.of(jobs).resolve(value);

describe('job scheduling', () => {
  it('has the schedule group, and the runner on Node.js 22 with 15 minutes and the state table', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Timeout: 900,
      Environment: { Variables: Match.objectLike({ [ENV.stateTableName]: Match.anyValue(), [ENV.hsmAgentFunctionName]: Match.anyValue() }) },
    });
  });

  it('lets EventBridge Scheduler of this account invoke the runner and nothing else, and fill the dead-letter queue', () => {
    // The other scheduler role is the daily sweep's (test/infra/daily-sweep.test.ts).
    const role = Object.fromEntries(Object.entries(template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] } } })).filter(([id]) => !id.startsWith('DailySweep')));
    expect(Object.keys(role)).toHaveLength(1);
    expect(JSON.stringify(Object.values(role)[0])).toContain('aws:SourceAccount');
    const statements = statementsOf(app.stack, template, jobs.schedulerRole);
    expect(statements.map((s) => s.actions).sort()).toEqual([['lambda:InvokeFunction'], ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']].sort());
    expect(statements.find((s) => s.actions.includes('lambda:InvokeFunction'))!.resources).toEqual([resolve(jobs.runner.functionArn)]);
    expect(statements.find((s) => s.actions.includes('sqs:SendMessage'))!.resources).toEqual([resolve(jobs.deadLetterQueue.queueArn)]);
  });

  it('lets the runner send to the AWS key synchronization queue only (the synchronization operation starts jobs), and names it', () => {
    const statements = statementsOf(app.stack, template, jobs.runner.role as iam.Role);
    const sends = statements.filter((s) => s.actions.some((a) => a.startsWith('sqs:')));
    expect(sends).toHaveLength(1);
    expect(sends[0]!.actions).toContain('sqs:SendMessage');
    expect(sends[0]!.resources).toEqual([resolve(app.stack.jobWorkers.queue('AwsKeySynchronization')!.queueArn)]);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [ENV.jobQueueUrls]: Match.anyValue() }) } });
  });

  it('has an encrypted dead-letter queue with an alarm on the first message, sent to the alarm topic', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [resolve(app.stack.monitoring.alarmTopic.topicArn)],
    });
  });

  it('grants the job configuration routes the group\'s schedules, passing the scheduler role, and run-now; no other route', () => {
    for (const route of routes) {
      const fn = app.stack.managementApi.functions.get(route.operation)!;
      const statements = statementsOf(Stack.of(fn), templateOf(app, fn), fn.role);
      const actions = statements.flatMap((s) => s.actions);
      const schedules = actions.includes('scheduler:CreateSchedule');
      expect([route.operation, schedules]).toEqual([route.operation, route.needs.jobScheduler === true]);
      expect([route.operation, actions.includes('iam:PassRole')]).toEqual([route.operation, route.needs.jobScheduler === true]);
      if (!schedules) continue;
      expect(actions).toEqual(expect.arrayContaining(['scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'lambda:InvokeFunction']));
      const passRole = statements.find((s) => s.actions.includes('iam:PassRole'))!;
      expect(JSON.stringify(passRole)).not.toContain('"*"');
    }
  });

  it('passes nothing to cdk-nag AwsSolutions unsuppressed', () => {
    expect(unsuppressedNagFindings(app.stack).filter((f) => /Jobs|JobConfig|RunJobConfigNow/.test(f))).toEqual([]);
  });
});
