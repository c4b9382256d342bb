/**
 * The daily sweep in the synthesized stack: a fixed EventBridge Scheduler schedule `rate(1 day)`
 * targeting the sweep function through a role that may invoke that function only, with a
 * dead-letter queue; the function's role lists and deletes secrets of the deployment and never
 * reads one (no GetSecretValue, no use of the secrets' key). cdk-nag for the whole app runs in
 * key-manager-stack.test.ts.
 */
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { DailySweep } from '../../lib/constructs/daily-sweep';
import { statementsOf, synthesizeApp, unsuppressedNagFindings } from './fixtures';

const app = () => synthesizeApp();
const sweep = () => app().stack.node.findAll().find((c): c is DailySweep => c instanceof DailySweep)!;

it('runs once a day, as a fixed schedule of the stack, with a dead-letter queue and retries', () => {
  const { template } = app();
  const fn = Stack.of(sweep()).getLogicalId(sweep().function.node.defaultChild as never);
  const dlq = Stack.of(sweep()).getLogicalId(sweep().deadLetterQueue.node.defaultChild as never);
  template.resourceCountIs('AWS::Scheduler::Schedule', 1);
  template.hasResourceProperties('AWS::Scheduler::Schedule', {
    ScheduleExpression: 'rate(1 day)',
    State: 'ENABLED',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 },
    },
  });
  template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
});

it('gives the schedule a role that may invoke the sweep function only (and write to its dead-letter queue)', () => {
  const { template, stack } = app();
  const schedule = template.findResources('AWS::Scheduler::Schedule');
  const roleArn = (Object.values(schedule)[0] as { Properties: { Target: { RoleArn: { 'Fn::GetAtt': [string, string] } } } }).Properties.Target.RoleArn['Fn::GetAtt'][0];
  const role = template.findResources('AWS::IAM::Role')[roleArn] as { Properties: { AssumeRolePolicyDocument: unknown } };
  expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(`"${roleArn}"`))
    .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }).Properties.PolicyDocument.Statement);
  const fn = stack.getLogicalId(sweep().function.node.defaultChild as never);
  const invoke = statements.filter((s) => ([] as string[]).concat(s.Action).includes('lambda:InvokeFunction'));
  expect(invoke).toHaveLength(1);
  for (const resource of ([] as unknown[]).concat(invoke[0].Resource)) expect(JSON.stringify(resource)).toContain(fn);
  const actions = statements.flatMap((s) => ([] as string[]).concat(s.Action)).sort();
  expect(actions).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
});

it('lets the sweep function list and delete the deployment\'s secrets, and never read one', () => {
  const { template, stack } = app();
  const statements = statementsOf(stack, template, sweep().role);
  const actions = statements.flatMap((s) => s.actions);
  expect(actions).toEqual(expect.arrayContaining(['secretsmanager:ListSecrets', 'secretsmanager:DeleteSecret', 'lambda:InvokeFunction']));
  expect([...new Set(actions.filter((a) => a.startsWith('secretsmanager:')))].sort()).toEqual(['secretsmanager:DeleteSecret', 'secretsmanager:ListSecrets']);
  expect(actions.some((a) => a.startsWith('kms:'))).toBe(false);
  const deletes = statements.filter((s) => s.actions.includes('secretsmanager:DeleteSecret'));
  const deleted = JSON.stringify(deletes.flatMap((s) => s.resources));
  expect(deleted).toContain('xks-key-manager/xks/*');
  expect(deleted).toContain('xks-key-manager/hsm-pin/*');
  expect(deleted).toContain('xks-key-manager/cloudhsm-password/*');
  expect(statements.find((s) => s.actions.includes('secretsmanager:ListSecrets'))!.actions).toEqual(['secretsmanager:ListSecrets']);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'daily-sweep', SECRET_NAME_PREFIX: Match.anyValue() }) },
  });
});

it('passes cdk-nag with no unsuppressed finding', () => {
  expect(unsuppressedNagFindings(app().stack).filter((f) => f.includes('DailySweep'))).toEqual([]);
});
