/**
 * The whole app as `cdk synth` builds it from cdk.json (VPC_ENDPOINT_SERVICE, the default) and
 * with `-c xksConnectivity=PUBLIC_ENDPOINT`: each element the README's "What gets deployed" lists,
 * and cdk-nag.
 */
import { readFileSync } from 'node:fs';
import { Names, Stack, type App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { ENV, GROUPS, METRICS, SECRET_PREFIXES, STATE_TABLE } from '../../lambdas/contract/env';
import { jobs } from '../../lambdas/contract/jobs';
import { routes } from '../../lambdas/contract/routes';
import { JOB_RUNNER_DESCRIPTION } from '../../lib/constructs/job-scheduling';
import { routeAreas } from '../../lib/private/route-areas';
import { DAILY_SWEEP_DESCRIPTION } from '../../lib/constructs/daily-sweep';
import { policyStatements, resourcesOfType, statementsOf, synthesizeApp, templateOf, unsuppressedNagFindings } from './fixtures';

const vpcEndpoint = () => synthesizeApp();
const publicEndpoint = () => synthesizeApp({ xksConnectivity: 'PUBLIC_ENDPOINT' });
const cloudHsm = () => synthesizeApp({ hsmType: 'cloudhsm', hsmClientBuildArgs: '{"CLOUDHSM_HSM_IPS":"10.40.8.10"}' });
/** Every optional parameter at once (one synthesis keeps the suite fast). */
const allOptions = () =>
  synthesizeApp({
    mtlsTrustStoreBucket: 'my-ca-bucket',
    mtlsTrustStoreKey: 'kms/ca.pem',
    adminEmail: 'admin@example.org',
    hsmType: 'luna',
    hsmCidrs: '192.0.2.0/24',
    hsmClientBuildArgs: '{"LUNA_CLIENT_DIR":"vendor/luna"}',
  });

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['VPC_ENDPOINT_SERVICE', vpcEndpoint],
    ['PUBLIC_ENDPOINT', publicEndpoint],
  ])('reports no unsuppressed finding for %s', (_name, synth) => {
    // Act
    const findings = unsuppressedNagFindings(synth().stack);
    // Assert
    expect(findings).toEqual([]);
  });
});

describe('state table', () => {
  it('has the contract key schema and list index, on demand, with PITR, deletion protection and RETAIN', () => {
    const { template } = vpcEndpoint();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
        GlobalSecondaryIndexes: [
          {
            IndexName: STATE_TABLE.listIndex.name,
            KeySchema: [
              { AttributeName: STATE_TABLE.listIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: STATE_TABLE.listIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      },
    });
  });
});

describe('management API', () => {
  it('has one Node.js 22 function per route, the job runner and one worker per job kind', () => {
    const app = vpcEndpoint();
    expect(app.stack.managementApi.functions.size).toBe(routes.length);
    const described = resourcesOfType(app, 'AWS::Lambda::Function').filter((f) => f.Properties.Runtime === 'nodejs22.x').map((f) => f.Properties.Description as string);
    expect(described.sort()).toEqual([...routes.map((r) => r.summary), JOB_RUNNER_DESCRIPTION, DAILY_SWEEP_DESCRIPTION, ...jobs.map((j) => j.summary)].sort());
  });

  it('puts each area of the route table in its own nested stack, with the functions, methods and models of its routes', () => {
    const { stack } = vpcEndpoint();
    for (const area of routeAreas(routes)) {
      const nested = stack.managementApi.areaStacks.get(area.name)!;
      for (const route of area.routes) expect([route.operation, Stack.of(stack.managementApi.functions.get(route.operation)!.function) === nested]).toEqual([route.operation, true]);
    }
    expect(stack.managementApi.areaStacks.size).toBeGreaterThanOrEqual(5);
  });

  it('has one method per route, and the Cognito authorizer on every route but the health check', () => {
    const app = vpcEndpoint();
    const { template } = app;
    const methods = resourcesOfType(app, 'AWS::ApiGateway::Method').map((m) => m.Properties);
    expect(methods).toHaveLength(routes.length);
    const open = methods.filter((m) => m.AuthorizationType !== 'COGNITO_USER_POOLS');
    expect(open).toEqual([expect.objectContaining({ AuthorizationType: 'NONE', HttpMethod: 'POST', OperationName: 'GetKeyStoreHealth' })]);
    expect(routes.filter((r) => r.access.kind === 'public').map((r) => r.operation)).toEqual(['GetKeyStoreHealth']);
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS' });
  });

  it('validates request bodies against a draft-04 model for every route with a request schema', () => {
    const app = vpcEndpoint();
    const withSchema = routes.filter((r) => r.requestSchema);
    expect(resourcesOfType(app, 'AWS::ApiGateway::Model')).toHaveLength(withSchema.length);
    app.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
    for (const route of withSchema) {
      const template = templateOf(app, app.stack.managementApi.functions.get(route.operation)!);
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        OperationName: route.operation,
        RequestValidatorId: Match.anyValue(),
        RequestModels: { 'application/json': Match.anyValue() },
      });
      template.hasResourceProperties('AWS::ApiGateway::Model', {
        Name: `${route.operation}Request`,
        Schema: Match.objectLike({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' }),
      });
    }
  });

  it('has a stage with JSON access logs, throttling, and a tighter limit on the unauthenticated route', () => {
    const { template } = vpcEndpoint();
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'api',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR', DataTraceEnabled: false }),
        Match.objectLike({ HttpMethod: 'POST', ResourcePath: '/~1v1~1cckm~1aws~1custom-key-stores~1{id}~1health', ThrottlingRateLimit: 10 }),
      ]),
    });
  });

  it('creates the Cognito pool with both groups, MFA and no self sign-up', () => {
    const { template } = vpcEndpoint();
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
    for (const group of Object.values(GROUPS)) template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: group });
  });

  it('creates the initial admin in the admins group when adminEmail is given', () => {
    const { template } = allOptions();
    template.hasResourceProperties('AWS::Cognito::UserPoolUser', { Username: 'admin@example.org', DesiredDeliveryMediums: ['EMAIL'] });
    template.hasResourceProperties('AWS::Cognito::UserPoolUserToGroupAttachment', { GroupName: GROUPS.admins, Username: 'admin@example.org' });
  });

  it('uses an existing user pool without creating one', () => {
    const app = synthesizeApp({ userPoolId: 'us-east-1_AbCdEf123', userPoolClientId: 'client123' });
    expect(resourcesOfType(app, 'AWS::Cognito::UserPool')).toEqual([]);
    const variables = resourcesOfType(app, 'AWS::Lambda::Function')
      .filter((f) => f.Properties.Runtime === 'nodejs22.x' && f.Properties.Description !== JOB_RUNNER_DESCRIPTION && f.Properties.Environment.Variables[ENV.serviceName] === 'management-api')
      .map((f) => f.Properties.Environment.Variables as Record<string, unknown>);
    expect(variables).toHaveLength(routes.length);
    for (const v of variables) expect(v).toMatchObject({ [ENV.userPoolId]: 'us-east-1_AbCdEf123', [ENV.userPoolClientId]: 'client123' });
  });
});

/** A statement on the deployment's secrets key (in a nested stack its ARN arrives as a `referenceto…SecretsKey…Arn` parameter). */
const onSecretsKey = (s: { resources: unknown[] }): boolean => /SecretsKey/.test(JSON.stringify(s.resources));

describe('least privilege', () => {
  const isData = (action: string) => action.startsWith('dynamodb:') || action.startsWith('secretsmanager:');

  it('gives no role a "*" resource on DynamoDB or Secrets Manager', () => {
    for (const synth of [vpcEndpoint, publicEndpoint]) {
      // ListSecrets alone (the daily sweep's) takes no resource but *: it returns names, never values.
      const offending = [...synth().templates.values()].flatMap(policyStatements).filter((s) => s.actions.some((a) => (isData(a) && a !== 'secretsmanager:ListSecrets') || a === '*') && s.resources.includes('*'));
      expect(offending).toEqual([]);
    }
  });

  it('grants each route exactly what its `needs` declare', () => {
    const app = vpcEndpoint();
    const { stack } = app;
    for (const route of routes) {
      const fn = stack.managementApi.functions.get(route.operation)!;
      // In the route's nested stack, the agent's ARN arrives as a parameter.
      const agentArn = { Ref: Stack.of(fn).resolve(`referenceto${Names.nodeUniqueId(stack.hsmAgent.function.node.defaultChild!.node)}Arn`).replace(/[^A-Za-z0-9]/g, '') };
      const statements = statementsOf(Stack.of(fn), templateOf(app, fn), fn.role);
      const actions = statements.flatMap((s) => s.actions);
      const secretResources = JSON.stringify(statements.filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:'))).map((s) => s.resources));

      expect([route.operation, actions.includes('dynamodb:PutItem')]).toEqual([route.operation, route.needs.state === 'readwrite']);
      expect([route.operation, actions.includes('dynamodb:Query')]).toEqual([route.operation, route.needs.state !== undefined]);
      const writesSecrets = Object.values(route.needs.secrets ?? {}).includes('write');
      expect([route.operation, actions.includes('secretsmanager:CreateSecret')]).toEqual([route.operation, writesSecrets]);
      expect([route.operation, actions.includes('secretsmanager:PutResourcePolicy')]).toEqual([route.operation, writesSecrets]);
      expect([route.operation, secretResources.includes(SECRET_PREFIXES.xks)]).toEqual([route.operation, Boolean(route.needs.secrets?.xks)]);
      expect([route.operation, secretResources.includes(SECRET_PREFIXES.hsmPin)]).toEqual([route.operation, Boolean(route.needs.secrets?.hsmPin)]);
      const invoke = statements.filter((s) => s.actions.includes('lambda:InvokeFunction'));
      const invokesAgent = invoke.filter((s) => JSON.stringify(s.resources) === JSON.stringify([agentArn]));
      expect([route.operation, invokesAgent.length]).toEqual([route.operation, route.needs.hsmAgent ? 1 : 0]);
      // The only other function a route may invoke is the job runner (run-now: test/infra/job-scheduling.test.ts).
      expect([route.operation, invoke.length - invokesAgent.length]).toEqual([route.operation, route.needs.jobScheduler ? 1 : 0]);
      const assume = statements.filter((s) => s.actions.includes('sts:AssumeRole'));
      expect([route.operation, assume.length]).toEqual([route.operation, route.needs.assumeAccountRole ? 1 : 0]);
      for (const s of assume) expect(JSON.stringify(s.resources)).toContain(':role/xks-key-manager-*');
    }
  });

  it('grants each route exactly the AWS KMS actions it calls, key actions only on the own account\'s keys (and aliases), and kms:* to nobody', () => {
    const ON_KEYS = new Set(['DescribeKey', 'GetKeyPolicy', 'GetKeyRotationStatus', 'ListResourceTags', 'EnableKey', 'DisableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'UpdateKeyDescription', 'TagResource', 'UntagResource', 'PutKeyPolicy', 'CreateAlias', 'DeleteAlias'].map((a) => `kms:${a}`));
    // Arrange
    const app = vpcEndpoint();
    const { stack } = app;
    const routesCallingKms = routes.filter((r) => (r.needs.awsKms ?? []).length > 0).map((r) => r.operation);

    // Act + Assert
    expect(routesCallingKms).toEqual(expect.arrayContaining(['CreateKeyStore', 'LinkKeyStore', 'ConnectKeyStore', 'DisconnectKeyStore', 'DeleteKeyStore', 'RotateKeyStoreCredential']));
    for (const route of routes) {
      const fn = stack.managementApi.functions.get(route.operation)!;
      const statements = statementsOf(Stack.of(fn), templateOf(app, fn), fn.role).filter((s) => s.actions.some((a) => a.startsWith('kms:')) && !onSecretsKey(s));
      const granted = statements.flatMap((s) => s.actions).filter((a) => a.startsWith('kms:')).sort();
      expect([route.operation, granted]).toEqual([route.operation, (route.needs.awsKms ?? []).map((a) => `kms:${a}`).sort()]);
      // IAM's statements on "*" may also carry the route's CloudHSM actions (asserted in their own test).
      const cloudHsmActions = (route.needs.cloudHsm ?? []).map((a) => `cloudhsm:${a}`);
      for (const s of statements) {
        expect(s.actions.every((a) => /^kms:[A-Z][A-Za-z]+$/.test(a) || cloudHsmActions.includes(a))).toBe(true);
        if (s.actions.some((a) => ON_KEYS.has(a))) {
          // Actions on keys (and aliases): the own account's keys (and aliases) only, never with account-wide ones.
          expect([route.operation, s.actions.filter((a) => !ON_KEYS.has(a))]).toEqual([route.operation, []]);
          expect(JSON.stringify(s.resources)).toMatch(/:kms:\*:.*AWS::AccountId.*:key\/\*/);
          if (s.actions.some((a) => a.endsWith('Alias'))) expect(JSON.stringify(s.resources)).toMatch(/:kms:\*:.*AWS::AccountId.*:alias\/\*/);
        } else {
          expect(s.resources).toEqual(['*']);
        }
      }
    }
    const everyKmsAction = [...app.templates.values()].flatMap(policyStatements).filter((s) => !onSecretsKey(s)).flatMap((s) => s.actions).filter((a) => a.startsWith('kms:'));
    expect(new Set(everyKmsAction)).toEqual(new Set([...routes, ...jobs].flatMap((r) => r.needs.awsKms ?? []).map((a) => `kms:${a}`)));
  });

  it('grants cloudhsm:DescribeClusters to the routes that declare it, on "*" (IAM has no resource type for it), and no other CloudHSM action to anyone', () => {
    // Arrange
    const app = vpcEndpoint();
    const { stack } = app;

    // Act + Assert
    expect(routes.filter((r) => (r.needs.cloudHsm ?? []).length > 0).map((r) => r.operation)).toEqual(['GetUnusedCloudHsmClusters']);
    for (const route of routes) {
      const fn = stack.managementApi.functions.get(route.operation)!;
      const statements = statementsOf(Stack.of(fn), templateOf(app, fn), fn.role).filter((s) => s.actions.some((a) => a.startsWith('cloudhsm:')));
      expect([route.operation, statements.flatMap((s) => s.actions.filter((a) => a.startsWith('cloudhsm:')))]).toEqual([route.operation, (route.needs.cloudHsm ?? []).map((a) => `cloudhsm:${a}`)]);
      for (const s of statements) expect(s.resources).toEqual(['*']);
    }
    const everyCloudHsmAction = [...app.templates.values()].flatMap(policyStatements).flatMap((s) => s.actions).filter((a) => a.startsWith('cloudhsm:'));
    expect(new Set(everyCloudHsmAction)).toEqual(new Set(['cloudhsm:DescribeClusters']));
  });

  it('lets the XKS proxy of a CloudHSM deployment call cloudhsm:DescribeClusters (on "*") through a CloudHSMv2 interface endpoint, cdk-nag clean; no other deployment', () => {
    // Arrange
    const proxyCloudHsmActions = (app: ReturnType<typeof synthesizeApp>) =>
      statementsOf(app.stack, app.template, app.stack.xksProxy.function.role as import('aws-cdk-lib/aws-iam').Role).filter((s) => s.actions.some((a) => a.startsWith('cloudhsm:')));
    const cloudHsmEndpoints = (app: ReturnType<typeof synthesizeApp>) =>
      Object.values(app.template.findResources('AWS::EC2::VPCEndpoint')).filter((e) => JSON.stringify(e.Properties.ServiceName).includes('cloudhsmv2'));
    const app = cloudHsm();

    // Act + Assert
    expect(proxyCloudHsmActions(app).map((s) => [s.actions.filter((a) => a.startsWith('cloudhsm:')), s.resources])).toEqual([[['cloudhsm:DescribeClusters'], ['*']]]);
    expect(cloudHsmEndpoints(app).map((e) => [e.Properties.VpcEndpointType, e.Properties.PrivateDnsEnabled])).toEqual([['Interface', true]]);
    expect(unsuppressedNagFindings(app.stack)).toEqual([]);
    for (const other of [vpcEndpoint(), allOptions()]) {
      expect(proxyCloudHsmActions(other)).toEqual([]);
      expect(cloudHsmEndpoints(other)).toEqual([]);
    }
  });

  it('lets the XKS proxy read state and secrets only, and the HSM agent read HSM PINs only', () => {
    const { stack, template } = vpcEndpoint();
    const proxy = statementsOf(stack, template, stack.xksProxy.function.role as import('aws-cdk-lib/aws-iam').Role).flatMap((s) => s.actions);
    expect(proxy).not.toContain('dynamodb:PutItem');
    expect(proxy).not.toContain('secretsmanager:PutSecretValue');
    expect(proxy).not.toContain('secretsmanager:PutResourcePolicy');
    expect(proxy).toContain('secretsmanager:GetSecretValue');
    const agent = statementsOf(stack, template, stack.hsmAgent.function.role as import('aws-cdk-lib/aws-iam').Role);
    expect(agent.flatMap((s) => s.actions).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(JSON.stringify(agent.filter((s) => s.actions.includes('secretsmanager:GetSecretValue')).map((s) => s.resources))).toContain(SECRET_PREFIXES.hsmPin);
    expect(JSON.stringify(agent.map((s) => s.resources))).not.toContain(SECRET_PREFIXES.xks);
    expect(agent.flatMap((s) => s.actions)).not.toContain('secretsmanager:PutResourcePolicy');
  });

  it("puts every role that may touch a secret under the path the secrets' resource policy lets in", () => {
    const app = vpcEndpoint();
    const rolePath = '/xks-key-manager/XksKeyManager/';
    let secretRoles = 0;
    for (const template of app.templates.values()) {
      const roles = template.findResources('AWS::IAM::Role');
      const secretRoleIds = new Set(
        policyStatements(template)
          .filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:')))
          .flatMap((s) => (s.roles as Array<{ Ref: string }>).map((r) => r.Ref)),
      );
      secretRoles += secretRoleIds.size;
      for (const id of secretRoleIds) expect({ id, path: roles[id].Properties.Path }).toEqual({ id, path: expect.stringMatching(/^\/xks-key-manager\/XksKeyManager\/((reads|writes)-secrets\/)?$/) });
    }
    expect(secretRoles).toBeGreaterThan(routes.filter((r) => r.needs.secrets).length); // the routes' roles, the proxy's and the agent's
    const roles = app.template.findResources('AWS::IAM::Role');
    for (const role of [app.stack.xksProxy.function.role, app.stack.hsmAgent.function.role]) {
      expect(roles[app.stack.getLogicalId((role as import('aws-cdk-lib/aws-iam').Role).node.defaultChild as import('aws-cdk-lib').CfnElement)].Properties.Path).toBe(`${rolePath}reads-secrets/`);
    }
  });

  it("tells exactly the functions that create secrets the deployment's role ARN pattern for the secrets' resource policy", () => {
    const app = vpcEndpoint();
    for (const route of routes) {
      const fn = app.stack.managementApi.functions.get(route.operation)!.function;
      const functions = templateOf(app, fn).findResources('AWS::Lambda::Function');
      const variables = functions[Stack.of(fn).getLogicalId(fn.node.defaultChild as import('aws-cdk-lib').CfnElement)].Properties.Environment.Variables as Record<string, unknown>;
      const writesSecrets = Object.values(route.needs.secrets ?? {}).includes('write');
      expect([route.operation, variables[ENV.secretsAllowedPrincipalArnPattern]]).toEqual([
        route.operation,
        writesSecrets ? { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':role/xks-key-manager/XksKeyManager/*']] } : undefined,
      ]);
    }
  });
});

describe('XKS proxy', () => {
  it('runs the image\'s two entry points, in the VPC, with Powertools settings', () => {
    const { template } = vpcEndpoint();
    for (const cmd of ['xks-proxy.handler', 'hsm-agent.handler']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        PackageType: 'Image',
        ImageConfig: { Command: [cmd] },
        VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      ImageConfig: { Command: ['xks-proxy.handler'] },
      Environment: { Variables: Match.objectLike({ [ENV.serviceName]: METRICS.service, [ENV.metricsNamespace]: METRICS.namespace }) },
    });
  });

  it('sets Powertools service, log level and metrics namespace in every function', () => {
    const { template } = vpcEndpoint();
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    for (const f of functions) {
      const variables = (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ?? {};
      expect(Object.keys(variables)).toEqual(expect.arrayContaining([ENV.serviceName, ENV.logLevel, ENV.metricsNamespace]));
    }
  });

  it('keeps provisioned concurrency on an alias and scales it on utilization', () => {
    const { template } = vpcEndpoint();
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 20,
      ScalableDimension: 'lambda:function:ProvisionedConcurrency',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.7, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } },
    });
  });

  it('serves HTTPS 443 with a TLS 1.2+/1.3 AEAD-only policy and a Lambda target checked on GET /ping', () => {
    const { template } = vpcEndpoint();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'lambda',
      HealthCheckEnabled: true,
      HealthCheckPath: '/ping',
    });
  });

  it('verifies client certificates against the trust store when one is configured, and not otherwise', () => {
    allOptions().template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TrustStore', { CaCertificatesBundleS3Bucket: 'my-ca-bucket', CaCertificatesBundleS3Key: 'kms/ca.pem' });
    allOptions().template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      MutualAuthentication: { Mode: 'verify', TrustStoreArn: Match.anyValue(), IgnoreClientCertificateExpiry: false },
    });
    allOptions().template.hasResourceProperties('AWS::Lambda::Function', { ImageConfig: { Command: ['xks-proxy.handler'] }, Environment: { Variables: Match.objectLike({ [ENV.xksAlbMtlsVerify]: 'true' }) } });
    vpcEndpoint().template.resourceCountIs('AWS::ElasticLoadBalancingV2::TrustStore', 0);
    vpcEndpoint().template.hasResourceProperties('AWS::Lambda::Function', { ImageConfig: { Command: ['xks-proxy.handler'] }, Environment: { Variables: Match.objectLike({ [ENV.xksAlbMtlsVerify]: 'false', [ENV.xksProxyFleetSize]: '2' }) } });
  });

  it('VPC_ENDPOINT_SERVICE: internal ALB behind an NLB on TCP 443, an endpoint service for AWS KMS', () => {
    const { template } = vpcEndpoint();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'application', Scheme: 'internal' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internal' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'TCP' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { TargetType: 'alb', Port: 443, Protocol: 'TCP' });
    template.hasResourceProperties('AWS::EC2::VPCEndpointService', { AcceptanceRequired: false, PrivateDnsName: 'xks.example.com' });
    template.hasResourceProperties('AWS::EC2::VPCEndpointServicePermissions', { AllowedPrincipals: ['cks.kms.us-east-1.amazonaws.com'] });
    template.hasOutput('XksVpcEndpointServiceName', {});
    template.hasOutput('PrivateDnsVerificationRecordName', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'PrivateDnsNameConfiguration.Name'] } });
    template.hasOutput('PrivateDnsVerificationRecordValue', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'PrivateDnsNameConfiguration.Value'] } });
  });

  it('PUBLIC_ENDPOINT: an internet-facing ALB and no NLB or endpoint service', () => {
    const { template } = publicEndpoint();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'application', Scheme: 'internet-facing' });
    template.resourcePropertiesCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network' }, 0);
    template.resourceCountIs('AWS::EC2::VPCEndpointService', 0);
    expect(Object.keys(template.findOutputs('XksVpcEndpointServiceName'))).toEqual([]);
  });

  it('opens the HSM client port of the chosen HSM type to the HSM CIDRs', () => {
    allOptions().template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ FromPort: 1792, ToPort: 1792, CidrIp: '192.0.2.0/24' })]),
    });
  });

  it('builds one image for both entry points, with the HSM client passed as build args', () => {
    // Arrange
    const { stack } = allOptions();
    // Act
    const assembly = (stack.node.root as App).synth();
    const manifests = assembly.artifacts.filter((a): a is cxapi.AssetManifestArtifact => a instanceof cxapi.AssetManifestArtifact);
    const images = manifests.flatMap((m) => Object.values((JSON.parse(readFileSync(m.file, 'utf8')) as { dockerImages: Record<string, { source: Record<string, unknown> }> }).dockerImages));
    // Assert
    expect(images).toHaveLength(1);
    expect(images[0]!.source).toMatchObject({
      dockerFile: 'lambdas/xks-proxy/Dockerfile',
      dockerBuildArgs: { HSM_CLIENT: 'luna', LUNA_CLIENT_DIR: 'vendor/luna' },
      platform: 'linux/amd64',
    });
  });
});

describe('monitoring', () => {
  it('alarms on p99 per operation above 150 ms, proxy failures, failed health checks and provisioned concurrency above 80 %', () => {
    const { template } = vpcEndpoint();
    for (const operation of METRICS.operations) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: METRICS.xksLatency,
        Namespace: METRICS.namespace,
        ExtendedStatistic: 'p99',
        Threshold: 150,
        Dimensions: Match.arrayWith([{ Name: 'operation', Value: operation }]),
      });
    }
    for (const errorName of ['InternalException', 'DependencyTimeoutException']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: METRICS.xksErrors, Threshold: 0, Dimensions: Match.arrayWith([{ Name: 'errorName', Value: errorName }]) });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: METRICS.healthCheckFailed, Threshold: 0 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ProvisionedConcurrencyUtilization', Namespace: 'AWS/Lambda', Threshold: 0.8 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'UnHealthyHostCount', Namespace: 'AWS/ApplicationELB' });
  });

  it('draws the dashboard against KMS\'s budgets', () => {
    const { stack, template } = vpcEndpoint();
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(stack.resolve((dashboards[0] as { Properties: { DashboardBody: unknown } }).Properties.DashboardBody));
    for (const text of ['KMS budget 250 ms', '1800/s per store', METRICS.xksErrors, METRICS.xksRequests, 'ProvisionedConcurrencyUtilization', METRICS.healthCheckFailed, '4XXError', '5XXError']) {
      expect(body).toContain(text);
    }
  });
});

describe('AWS WAF', () => {
  const rateRule = (limit: number) => Match.objectLike({
    Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: limit, EvaluationWindowSec: 300 } },
    Action: { Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'Throttled' } } },
  });

  it('puts a rate-based web ACL on the API stage by default, and none on the internal XKS ALB', () => {
    const { template } = vpcEndpoint();
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'REGIONAL', DefaultAction: { Allow: {} }, Rules: [rateRule(3000)] });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':apigateway:'), Match.objectLike({ Ref: Match.stringLikeRegexp('^ManagementApi') }), '/stages/', Match.objectLike({ Ref: Match.stringLikeRegexp('DeploymentStage') })])] },
    });
  });

  it('PUBLIC_ENDPOINT: a second web ACL on the internet-facing ALB answering the spec\'s ThrottlingException', () => {
    const { template } = publicEndpoint();
    template.resourceCountIs('AWS::WAFv2::WebACL', 2);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: [rateRule(1_000_000)],
      CustomResponseBodies: { Throttled: { ContentType: 'APPLICATION_JSON', Content: Match.stringLikeRegexp('"errorName":"ThrottlingException"') } },
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: { Ref: Match.stringLikeRegexp('XksProxyAlb') } });
  });

  it('-c waf=false: no web ACL, and cdk-nag still has no unsuppressed finding', () => {
    const app = synthesizeApp({ waf: 'false', xksConnectivity: 'PUBLIC_ENDPOINT' });
    app.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    app.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    expect(unsuppressedNagFindings(app.stack)).toEqual([]);
  });
});

describe('the secrets\' own KMS key', () => {
  const keyPolicy = () => {
    const keys = vpcEndpoint().template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('Secrets Manager secrets') } });
    expect(Object.keys(keys)).toHaveLength(1);
    const key = Object.values(keys)[0] as { Properties: { EnableKeyRotation: boolean; RotationPeriodInDays: number; KeyPolicy: { Statement: Array<{ Sid: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> }> } }; DeletionPolicy: string };
    return key;
  };

  it('is customer managed, rotated yearly, retained, and lets the account administer it but not use it', () => {
    const key = keyPolicy();
    expect([key.Properties.EnableKeyRotation, key.Properties.RotationPeriodInDays, key.DeletionPolicy]).toEqual([true, 365, 'Retain']);
    const admin = key.Properties.KeyPolicy.Statement.find((s) => s.Sid === 'AccountAdministersTheKeyButCannotUseIt')!;
    const adminActions = ([] as string[]).concat(admin.Action);
    expect(adminActions).toEqual(expect.arrayContaining(['kms:Put*', 'kms:ScheduleKeyDeletion']));
    for (const use of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*', 'kms:CreateGrant', 'kms:*']) expect(adminActions).not.toContain(use);
    expect(adminActions.filter((a) => /^kms:(Create|ReEncrypt|Generate|Encrypt|Decrypt)/.test(a) && a !== 'kms:CreateAlias')).toEqual([]);
  });

  it('grants decrypt to the reader and writer role paths and encrypt to the writer path only, through Secrets Manager, for this stack\'s secrets', () => {
    const statements = keyPolicy().Properties.KeyPolicy.Statement;
    const decrypt = statements.filter((s) => ([] as string[]).concat(s.Action).includes('kms:Decrypt'));
    const encrypt = statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => a === 'kms:GenerateDataKey' || a === 'kms:Encrypt'));
    expect([decrypt.length, encrypt.length]).toEqual([1, 1]);
    const principalPaths = (s: (typeof statements)[number]) => JSON.stringify(s.Condition!.ArnLike!['aws:PrincipalArn']);
    expect(principalPaths(decrypt[0]!)).toMatch(/role\/xks-key-manager\/XksKeyManager\/reads-secrets\/\*.*role\/xks-key-manager\/XksKeyManager\/writes-secrets\/\*/);
    expect(principalPaths(encrypt[0]!)).toMatch(/writes-secrets/);
    expect(principalPaths(encrypt[0]!)).not.toMatch(/reads-secrets/);
    for (const s of [...decrypt, ...encrypt]) {
      expect(JSON.stringify(s.Condition!.StringEquals!['kms:ViaService'])).toContain('secretsmanager.');
      expect(JSON.stringify(s.Condition!.StringLike!['kms:EncryptionContext:SecretARN'])).toContain(':secret:XksKeyManager/xks-key-manager/*');
    }
  });

  it('gives each role the key and secret actions of its capability: readers decrypt, writers also encrypt, deleters neither read nor touch the key', () => {
    const app = vpcEndpoint();
    const deleteOnly = routes.filter((r) => Object.values(r.needs.secrets ?? {}).includes('delete') && !Object.values(r.needs.secrets ?? {}).some((a) => a !== 'delete'));
    expect(deleteOnly.map((r) => r.operation).sort()).toEqual(['DeleteHsmPartition', 'DeleteKeyStore', 'DeleteKeyStoreCredential']);
    for (const route of routes) {
      const fn = app.stack.managementApi.functions.get(route.operation)!;
      const statements = statementsOf(Stack.of(fn), templateOf(app, fn), fn.role);
      const keyActions = statements.filter(onSecretsKey).flatMap((s) => s.actions).sort();
      const secretActions = statements.flatMap((s) => s.actions).filter((a) => a.startsWith('secretsmanager:'));
      const accesses = Object.values(route.needs.secrets ?? {});
      const expected = accesses.includes('write') ? ['kms:Decrypt', 'kms:GenerateDataKey'] : accesses.includes('read') ? ['kms:Decrypt'] : [];
      expect({ route: route.operation, keyActions }).toEqual({ route: route.operation, keyActions: expected });
      expect({ route: route.operation, reads: secretActions.includes('secretsmanager:GetSecretValue') }).toEqual({ route: route.operation, reads: accesses.some((a) => a !== 'delete') });
      if (deleteOnly.includes(route)) expect({ route: route.operation, secretActions }).toEqual({ route: route.operation, secretActions: ['secretsmanager:DeleteSecret'] });
      const path = (templateOf(app, fn).toJSON() as { Resources: Record<string, { Properties: { Path?: string } }> }).Resources[Stack.of(fn).getLogicalId(fn.role.node.defaultChild as import('aws-cdk-lib').CfnElement)]!.Properties.Path;
      expect({ route: route.operation, path }).toEqual({ route: route.operation, path: `/xks-key-manager/XksKeyManager/${accesses.includes('write') ? 'writes-secrets/' : accesses.includes('read') ? 'reads-secrets/' : ''}` });
    }
    for (const role of [app.stack.xksProxy.function.role, app.stack.hsmAgent.function.role]) {
      const keyActions = statementsOf(app.stack, app.template, role as import('aws-cdk-lib/aws-iam').Role).filter((s) => JSON.stringify(s.resources).includes('SecretsKey')).flatMap((s) => s.actions);
      expect(keyActions).toEqual(['kms:Decrypt']);
    }
  });

  it('names every secret under the stack name, tells each function that touches secrets the prefix, and writers the key', () => {
    const app = vpcEndpoint();
    // ListSecrets (the daily sweep's) has no resource to scope; the sweep filters by the prefix itself.
    const secretPatterns = [...app.templates.values()].flatMap(policyStatements).filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:') && a !== 'secretsmanager:ListSecrets')).map((s) => JSON.stringify(s.resources));
    expect(secretPatterns.length).toBeGreaterThan(0);
    for (const pattern of secretPatterns) expect(pattern).toMatch(/:secret:XksKeyManager\/xks-key-manager\/(xks|hsm-pin|cloudhsm-password)\/\*/);
    for (const route of routes) {
      const fn = app.stack.managementApi.functions.get(route.operation)!.function;
      const variables = templateOf(app, fn).findResources('AWS::Lambda::Function')[Stack.of(fn).getLogicalId(fn.node.defaultChild as import('aws-cdk-lib').CfnElement)]!.Properties.Environment.Variables as Record<string, unknown>;
      const accesses = Object.values(route.needs.secrets ?? {});
      expect({ route: route.operation, prefix: variables[ENV.secretNamePrefix] }).toEqual({ route: route.operation, prefix: accesses.length > 0 ? 'XksKeyManager/' : undefined });
      expect({ route: route.operation, key: variables[ENV.secretsKmsKeyId] !== undefined }).toEqual({ route: route.operation, key: accesses.includes('write') });
    }
    for (const cmd of ['xks-proxy.handler', 'hsm-agent.handler']) {
      app.template.hasResourceProperties('AWS::Lambda::Function', { ImageConfig: { Command: [cmd] }, Environment: { Variables: Match.objectLike({ [ENV.secretNamePrefix]: 'XksKeyManager/' }) } });
    }
  });
});
