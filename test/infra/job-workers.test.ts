/**
 * The job engine in the stack: per job kind a queue, its dead-letter queue and alarm (to the
 * alarm topic), and a worker driven by the queue with exactly the job table's grants; the routes
 * that start jobs may only send to their kind's queue.
 */
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambdas/contract/env';
import { jobs } from '../../lambdas/contract/jobs';
import { routes } from '../../lambdas/contract/routes';
import { MAX_RECEIVES } from '../../lib/constructs/job-workers';
import { statementsOf, synthesizeApp, templateOf } from './fixtures';

const app = synthesizeApp({ xksConnectivity: 'VPC_ENDPOINT_SERVICE' });
const { stack } = app;

describe('job workers', () => {
  it.each(jobs.map((j) => [j.kind, j] as const))('%s: a queue with a dead-letter queue after MAX_RECEIVES receives, an alarm on it to the alarm topic, and a worker taking one unit at a time', (_kind, job) => {
    const worker = stack.jobWorkers.workers.get(job.kind)!;
    const template = templateOf(app, worker.queue);

    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: job.timeoutSeconds * 6,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: MAX_RECEIVES },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: job.maxConcurrency },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: job.timeoutSeconds, Description: job.summary, Environment: { Variables: Match.objectLike({ [ENV.jobQueueUrls]: Match.anyValue() }) } });
    const alarm = Stack.of(worker.deadLetterAlarm).resolve((worker.deadLetterAlarm.node.defaultChild as { alarmActions?: unknown }).alarmActions);
    expect(JSON.stringify(alarm)).toContain('Alarms');
    expect(worker.deadLetterAlarm.metric).toBeDefined();
  });

  it.each(jobs.map((j) => [j.kind, j] as const))('%s: the worker may use its own queue, the state table and exactly the KMS actions of its row', (_kind, job) => {
    const worker = stack.jobWorkers.workers.get(job.kind)!;
    const statements = statementsOf(Stack.of(worker.role), templateOf(app, worker.role), worker.role);
    const actions = statements.flatMap((s) => s.actions);

    expect(actions.filter((a) => a.startsWith('kms:')).sort()).toEqual((job.needs.awsKms ?? []).map((a) => `kms:${a}`).sort());
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:SendMessage', 'dynamodb:PutItem', 'sts:AssumeRole']));
    const sqsResources = statements.filter((s) => s.actions.some((a) => a.startsWith('sqs:'))).map((s) => JSON.stringify(s.resources));
    for (const r of sqsResources) expect(r).toBe(JSON.stringify([Stack.of(worker.role).resolve(worker.queue.queueArn)]));
    expect(actions.some((a) => a === '*' || a === 'kms:*' || a === 'sqs:*')).toBe(false);
  });

  it('lets the routes that start jobs send to their kind\'s queue only, and no other route use SQS', () => {
    for (const route of routes) {
      const fn = stack.managementApi.functions.get(route.operation)!;
      const statements = statementsOf(Stack.of(fn), templateOf(app, fn), fn.role).filter((s) => s.actions.some((a) => a.startsWith('sqs:')));
      expect([route.operation, statements.flatMap((s) => s.actions).sort()]).toEqual([route.operation, route.needs.startsJobs ? ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'] : []]);
    }
  });
});
