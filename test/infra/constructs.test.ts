/**
 * Each construct's validation errors (one test per error, matching its message), and the branches
 * the whole-app tests do not reach. Small stacks, bundling skipped.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { routeFor, type RouteDefinition } from '../../lambdas/contract/routes';
import { DataPlaneNetwork, type DataPlaneNetworkProps } from '../../lib/constructs/data-plane-network';
import { HsmAgent } from '../../lib/constructs/hsm-agent';
import { ManagementApi, type ManagementApiProps } from '../../lib/constructs/management-api';
import { Monitoring } from '../../lib/constructs/monitoring';
import { OperationFunction } from '../../lib/constructs/operation-function';
import { ProxyImage } from '../../lib/constructs/proxy-image';
import { SecretPrefixes } from '../../lib/constructs/secret-prefixes';
import { RateLimitWebAcl } from '../../lib/constructs/rate-limit-web-acl';
import { StateTable } from '../../lib/constructs/state-table';
import { UserDirectory } from '../../lib/constructs/user-directory';
import { XksProxy, type XksProxyProps } from '../../lib/constructs/xks-proxy';
import { HSM_PORTS } from '../../lib/parameters';
import { toApiGatewaySchema } from '../../lib/private/api-gateway-schema';
import { acknowledge } from '../../lib/private/nag';
import { testStack } from './fixtures';

const AZS = ['us-east-1a', 'us-east-1b'];
const image = new ProxyImage({ hsmType: 'softhsm' });

describe('StateTable', () => {
  it('refuses RemovalPolicy.DESTROY', () => {
    expect(() => new StateTable(testStack(), 'State', { removalPolicy: RemovalPolicy.DESTROY })).toThrow(/removalPolicy DESTROY would delete every key store/);
  });

  it('uses a customer-managed key when one is given', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    new StateTable(stack, 'State', { encryptionKey: key });
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() } });
  });
});

describe('OperationFunction', () => {
  const route = routeFor('ListKeyStores');

  it('refuses a timeout at or above API Gateway\'s 29 seconds', () => {
    expect(() => new OperationFunction(testStack(), 'F', { route, timeout: Duration.seconds(29) })).toThrow(/must stay below API Gateway's 29-second integration timeout/);
  });

  it('names a missing handler file when bundling is required', () => {
    // Arrange: bundling is on (no bundling-stacks context) and the handler path does not exist
    const missing: RouteDefinition = { ...route, operation: 'Nothing', handler: 'lambdas/handlers/does-not-exist.ts' };
    // Act / Assert
    expect(() => new OperationFunction(testStack({}), 'F', { route: missing })).toThrow('Handler file lambdas/handlers/does-not-exist.ts of route Nothing does not exist');
  });

  it('builds a Node.js 22 arm64 function with JSON logs in its own log group', () => {
    const stack = testStack();
    new OperationFunction(stack, 'F', { route: { ...route, handler: 'lib/private/project.ts' } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Handler: 'index.handler', Architectures: ['arm64'], LoggingConfig: { LogFormat: 'JSON', LogGroup: Match.anyValue() } });
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
  });
});

describe('SecretPrefixes', () => {
  it("puts the deployment's roles under /xks-key-manager/<stack name>/ and lets that path in", () => {
    const stack = testStack();
    const secrets = new SecretPrefixes(stack, 'Secrets');
    expect(secrets.rolePath).toBe('/xks-key-manager/Test/');
    expect(stack.resolve(secrets.allowedPrincipalArnPattern)).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:role/xks-key-manager/Test/*']] });
  });

  it.each(['/', 'xks/', '/xks', '/xks//a/', '/with space/'])('refuses the role path %j', (rolePath) => {
    expect(() => new SecretPrefixes(testStack(), 'Secrets', { rolePath })).toThrow(/rolePath must be an IAM path like \/xks-key-manager\/prod\//);
  });

  it('refuses to grant secrets to a role outside the path of its capability (the resource and key policies would deny it)', () => {
    const stack = testStack();
    const secrets = new SecretPrefixes(stack, 'Secrets');
    const role = (id: string, path?: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), path });
    expect(() => secrets.grantRead(role('Outside'), 'xks')).toThrow('SecretPrefixes Test/Secrets: Test/Outside must be an iam.Role with path /xks-key-manager/Test/reads-secrets/ or /xks-key-manager/Test/writes-secrets/');
    expect(() => secrets.grantReadWrite(role('Elsewhere', '/other/'), 'hsmPin')).toThrow(/Test\/Elsewhere must be an iam.Role with path \/xks-key-manager\/Test\/writes-secrets\//);
    expect(() => secrets.grantReadWrite(role('Reader', secrets.rolePathFor('read')), 'hsmPin')).toThrow(/Test\/Reader must be an iam.Role with path \/xks-key-manager\/Test\/writes-secrets\//);
    expect(() => secrets.grantReadWrite(role('Writer', secrets.rolePathFor('write')), 'hsmPin')).not.toThrow();
    expect(() => secrets.grantDelete(role('Deleter', secrets.rolePathFor('delete')), 'xks')).not.toThrow();
  });

  it('names secrets under <stack name>/ by default, and refuses a prefix with characters secret names cannot have', () => {
    expect(new SecretPrefixes(testStack(), 'Secrets').namePrefix).toBe('Test/');
    expect(() => new SecretPrefixes(testStack(), 'Secrets', { namePrefix: 'a b/' })).toThrow(/namePrefix may hold only the characters of secret names/);
  });
});

describe('ManagementApi', () => {
  const props = (stack: Stack, overrides: Partial<ManagementApiProps> = {}): ManagementApiProps => {
    const pool = new cognito.UserPool(stack, 'Pool');
    return {
      stateTable: new StateTable(stack, 'State'),
      secrets: new SecretPrefixes(stack, 'Secrets'),
      userPool: pool,
      userPoolClient: pool.addClient('Client'),
      routes: [routeFor('ListKeyStores')],
      ...overrides,
    };
  };

  it('refuses an empty route table', () => {
    const stack = testStack();
    expect(() => new ManagementApi(stack, 'Api', props(stack, { routes: [] }))).toThrow(/route table is empty/);
  });

  it('refuses two routes with the same method and path', () => {
    const stack = testStack();
    const route = routeFor('ListKeyStores');
    expect(() => new ManagementApi(stack, 'Api', props(stack, { routes: [route, { ...route, operation: 'Other' }] }))).toThrow(/two routes for GET \/v1\/cckm\/aws\/custom-key-stores/);
  });

  it('refuses an operation name that is not alphanumeric', () => {
    const stack = testStack();
    expect(() => new ManagementApi(stack, 'Api', props(stack, { routes: [{ ...routeFor('ListKeyStores'), operation: 'list-key-stores' }] }))).toThrow(/must be alphanumeric/);
  });

  it('tells its functions whether the deployment has a mutual-TLS trust store (key stores may enable mTLS only then)', () => {
    const stackWith = testStack();
    const withTrustStore = new ManagementApi(stackWith, 'Api', props(stackWith, { mtlsTrustStore: true }));
    const stackWithout = testStack();
    const without = new ManagementApi(stackWithout, 'Api', props(stackWithout));

    const environments = (api: ManagementApi) =>
      [...api.functions.values()].flatMap((operation) =>
        Object.values(Template.fromStack(Stack.of(operation.function)).findResources('AWS::Lambda::Function')).map(
          (fn) => (fn as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ?? {},
        ),
      );
    expect(environments(withTrustStore).some((vars) => vars.XKS_ALB_MTLS_VERIFY === 'true')).toBe(true);
    expect(environments(without).length).toBeGreaterThan(0);
    expect(environments(without).some((vars) => 'XKS_ALB_MTLS_VERIFY' in vars)).toBe(false);
  });

  it('refuses a route that needs the HSM agent when none is given', () => {
    const stack = testStack();
    expect(() => new ManagementApi(stack, 'Api', props(stack, { routes: [routeFor('TestHsmPartition')] }))).toThrow(/route TestHsmPartition needs the HSM agent; pass `hsmAgent`/);
  });

  it('refuses a public-route rate above the stage rate', () => {
    const stack = testStack();
    expect(() => new ManagementApi(stack, 'Api', props(stack, { throttlingRateLimit: 5, publicRouteRateLimit: 10 }))).toThrow(/publicRouteRateLimit \(10\) must not exceed throttlingRateLimit \(5\)/);
  });
});

describe('request schemas → API Gateway models', () => {
  it("drops an empty required list (draft-04's meta-schema wants at least one name)", () => {
    expect(toApiGatewaySchema({ type: 'object', required: [], properties: { a: { type: 'object', required: ['x'] } } })).toEqual({
      schema: apigateway.JsonSchemaVersion.DRAFT4,
      type: apigateway.JsonSchemaType.OBJECT,
      properties: { a: { type: apigateway.JsonSchemaType.OBJECT, required: ['x'] } },
    });
  });

  it('translates draft-2020 keywords to draft-04 and drops annotations', () => {
    const model = toApiGatewaySchema({
      type: 'object',
      properties: { size: { const: 256 }, count: { type: 'integer', exclusiveMinimum: 1 }, name: { type: ['string', 'null'], examples: ['x'] } },
      required: ['size'],
      additionalProperties: false,
    });
    expect(model).toEqual({
      schema: apigateway.JsonSchemaVersion.DRAFT4,
      type: apigateway.JsonSchemaType.OBJECT,
      properties: {
        size: { enum: [256] },
        count: { type: apigateway.JsonSchemaType.INTEGER, minimum: 1, exclusiveMinimum: true },
        name: { type: [apigateway.JsonSchemaType.STRING, apigateway.JsonSchemaType.NULL] },
      },
      required: ['size'],
      additionalProperties: false,
    });
  });

  it('refuses a keyword draft-04 cannot express, naming where it is', () => {
    expect(() => toApiGatewaySchema({ type: 'object', properties: { a: { if: {} } } })).toThrow('Request schema keyword "if" at #/properties/a/if has no API Gateway (draft-04) equivalent');
  });

  it('refuses an unknown type', () => {
    expect(() => toApiGatewaySchema({ type: 'text' })).toThrow('Unknown JSON schema type "text" at #/type.');
  });
});

describe('UserDirectory', () => {
  it('refuses an existing pool without its client', () => {
    expect(() => new UserDirectory(testStack(), 'Users', { existingUserPoolId: 'us-east-1_abc' })).toThrow(/existingUserPoolId needs existingUserPoolClientId/);
  });

  it('refuses adminEmail with an existing pool', () => {
    expect(() => new UserDirectory(testStack(), 'Users', { existingUserPoolId: 'us-east-1_abc', existingUserPoolClientId: 'c', adminEmail: 'a@b.org' })).toThrow(/adminEmail only applies to a pool created here/);
  });

  it('refuses a client id without a pool id', () => {
    expect(() => new UserDirectory(testStack(), 'Users', { existingUserPoolClientId: 'c' })).toThrow(/existingUserPoolClientId is only used with existingUserPoolId/);
  });

  it("refuses a token validity outside Cognito's 5 minutes to 1 day", () => {
    expect(() => new UserDirectory(testStack(), 'Users', { accessTokenValidity: Duration.minutes(2) })).toThrow(/accessTokenValidity must be from 5 minutes to 1 day/);
  });

  it('issues 15-minute access tokens by default, and what accessTokenValidity says otherwise', () => {
    const stack = testStack();
    new UserDirectory(stack, 'Default');
    new UserDirectory(stack, 'Longer', { accessTokenValidity: Duration.hours(1) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { AccessTokenValidity: 15, TokenValidityUnits: Match.objectLike({ AccessToken: 'minutes' }) });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { AccessTokenValidity: 60 });
  });
});

describe('DataPlaneNetwork', () => {
  const existing = { vpcId: 'vpc-0123456789abcdef0', vpcCidr: '10.1.0.0/16', privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'] };
  const network = (props: Partial<DataPlaneNetworkProps>) => new DataPlaneNetwork(testStack(), 'Net', { availabilityZones: AZS, ...props });

  it('refuses fewer than two availability zones', () => {
    expect(() => network({ availabilityZones: ['us-east-1a'] })).toThrow(/at least two availabilityZones/);
  });

  it('refuses created-VPC settings with an existing VPC', () => {
    expect(() => network({ existingVpc: existing, natGateways: 1 })).toThrow(/only apply to a created VPC/);
  });

  it('refuses a private subnet count that differs from the zone count', () => {
    expect(() => network({ existingVpc: { ...existing, privateSubnetIds: ['subnet-0123456789abcdef0'] } })).toThrow(/1 private subnets for 2 availability zones/);
  });

  it('refuses a public subnet count that differs from the zone count', () => {
    expect(() => network({ existingVpc: { ...existing, publicSubnetIds: ['subnet-0123456789abcdef2'] } })).toThrow(/1 public subnets for 2 availability zones/);
  });

  it('refuses an existing VPC without a destination for the HSM rule', () => {
    expect(() => network({ existingVpc: { ...existing, vpcCidr: undefined }, hsmPorts: HSM_PORTS.luna })).toThrow(/needs vpcCidr or hsmCidrs/);
  });

  it('refuses more NAT gateways than zones', () => {
    expect(() => network({ natGateways: 3, publicSubnets: true })).toThrow(/natGateways must be an integer from 0 to 2/);
  });

  it('refuses NAT gateways without public subnets', () => {
    expect(() => network({ natGateways: 1, publicSubnets: false })).toThrow(/NAT gateways live in public subnets/);
  });

  it('creates an isolated VPC with flow logs and endpoints, and opens the CloudHSM ports to the VPC', () => {
    const stack = testStack();
    new DataPlaneNetwork(stack, 'Net', { availabilityZones: AZS, hsmPorts: HSM_PORTS.cloudhsm });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ FromPort: 2223, ToPort: 2225, CidrIp: { 'Fn::GetAtt': [Match.anyValue(), 'CidrBlock'] } })]),
    });
  });

  it('imports an existing VPC without look-up and creates no endpoints by default', () => {
    const stack = testStack();
    new DataPlaneNetwork(stack, 'Net', { availabilityZones: AZS, existingVpc: existing, hsmPorts: HSM_PORTS.luna });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: existing.vpcId, SecurityGroupEgress: Match.arrayWith([Match.objectLike({ FromPort: 1792, CidrIp: '10.1.0.0/16' })]) });
  });
});

describe('XksProxy', () => {
  const proxy = (overrides: Partial<XksProxyProps>, publicSubnets = false) => {
    const stack = testStack();
    const net = new DataPlaneNetwork(stack, 'Net', { availabilityZones: AZS, publicSubnets });
    return new XksProxy(stack, 'Proxy', {
      image,
      vpc: net.vpc,
      privateSubnets: net.privateSubnets,
      publicSubnets: net.publicSubnets,
      securityGroup: net.hsmClientSecurityGroup,
      stateTable: new StateTable(stack, 'State'),
      secrets: new SecretPrefixes(stack, 'Secrets'),
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/0d1f2e3a-0000-4000-8000-000000000000'),
      provisionedConcurrency: { min: 1, max: 2, targetUtilization: 0.7 },
      accessLogBucket: new s3.Bucket(stack, 'Logs'),
      ...overrides,
    });
  };

  it('refuses PUBLIC_ENDPOINT without public subnets', () => {
    expect(() => proxy({ connectivity: 'PUBLIC_ENDPOINT' })).toThrow(/PUBLIC_ENDPOINT needs publicSubnets/);
  });

  it('refuses an endpoint-service DNS name with PUBLIC_ENDPOINT', () => {
    expect(() => proxy({ connectivity: 'PUBLIC_ENDPOINT', endpointServicePrivateDnsName: 'xks.example.org' }, true)).toThrow(/endpointServicePrivateDnsName only applies to VPC_ENDPOINT_SERVICE/);
  });

  it('refuses a web ACL on the internal ALB of VPC_ENDPOINT_SERVICE', () => {
    expect(() => proxy({ webAclRateLimit: 1000 })).toThrow(/webAclRateLimit applies to the internet-facing ALB of PUBLIC_ENDPOINT only/);
  });

  it('refuses provisioned concurrency with max below min', () => {
    expect(() => proxy({ provisionedConcurrency: { min: 3, max: 2, targetUtilization: 0.7 } })).toThrow(/needs integers 1 ≤ min ≤ max; got min 3, max 2/);
  });

  it('refuses a target utilization outside 0.1–0.9', () => {
    expect(() => proxy({ provisionedConcurrency: { min: 1, max: 2, targetUtilization: 1 } })).toThrow(/targetUtilization must be between 0.1 and 0.9; got 1/);
  });

  it('has no private DNS verification when no private DNS name is set', () => {
    expect(proxy({}).privateDnsVerification).toBeUndefined();
  });
});

describe('HsmAgent', () => {
  it('refuses a timeout within its own 10-second PKCS#11 budget', () => {
    const stack = testStack();
    const net = new DataPlaneNetwork(stack, 'Net', { availabilityZones: AZS });
    expect(() => new HsmAgent(stack, 'Agent', { image, vpc: net.vpc, vpcSubnets: net.privateSubnets, securityGroup: net.hsmClientSecurityGroup, secrets: new SecretPrefixes(stack, 'S'), timeout: Duration.seconds(10) })).toThrow(/timeout must exceed the agent's 10-second PKCS#11 budget/);
  });

  it('grants invoke on its unqualified ARN only', () => {
    const stack = testStack();
    const net = new DataPlaneNetwork(stack, 'Net', { availabilityZones: AZS });
    const agent = new HsmAgent(stack, 'Agent', { image, vpc: net.vpc, vpcSubnets: net.privateSubnets, securityGroup: net.hsmClientSecurityGroup, secrets: new SecretPrefixes(stack, 'S') });
    const caller = new lambda.Function(stack, 'Caller', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=()=>1') });
    agent.grantInvoke(caller);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AgentFunction'), 'Arn'] } }] },
    });
  });
});

describe('Monitoring', () => {
  const monitoring = (overrides: { p99LatencyThresholdMs?: number; provisionedConcurrencyUtilizationThreshold?: number }) => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: AZS, natGateways: 0 });
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=()=>1') });
    const alias = new lambda.Alias(stack, 'Alias', { aliasName: 'live', version: fn.currentVersion });
    const api = new apigateway.RestApi(stack, 'Api');
    api.root.addMethod('GET');
    return new Monitoring(stack, 'Monitoring', {
      proxyAlias: alias,
      proxyTargetGroup: new elbv2.ApplicationTargetGroup(stack, 'Tg', { vpc, targetType: elbv2.TargetType.LAMBDA }),
      api,
      ...overrides,
    });
  };

  it('refuses a p99 threshold at or above KMS\'s 250 ms budget', () => {
    expect(() => monitoring({ p99LatencyThresholdMs: 250 })).toThrow(/p99LatencyThresholdMs must be between 0 and KMS's 250 ms budget/);
  });

  it('refuses a utilization threshold that is not a fraction', () => {
    expect(() => monitoring({ provisionedConcurrencyUtilizationThreshold: 80 })).toThrow(/fraction between 0 and 1; got 80/);
  });
});

describe('ProxyImage', () => {
  it('refuses HSM_CLIENT in buildArgs', () => {
    expect(() => new ProxyImage({ hsmType: 'luna', buildArgs: { HSM_CLIENT: 'cloudhsm' } })).toThrow(/set the HSM client with `hsmType`/);
  });

  it('refuses a build context without the Dockerfile', () => {
    expect(() => new ProxyImage({ hsmType: 'luna', contextDirectory: '/tmp' })).toThrow(/Dockerfile not found; contextDirectory must be the repository root/);
  });

  it('selects the arm64 platform for an arm64 image', () => {
    expect(new ProxyImage({ hsmType: 'softhsm', architecture: 'arm64' }).architecture).toBe(lambda.Architecture.ARM_64);
  });
});

describe('suppressions', () => {
  it('refuse a suppression without a real reason', () => {
    expect(() => acknowledge(new App(), 'AwsSolutions-S1', 'because')).toThrow(/needs a real reason/);
  });
});

describe('RateLimitWebAcl', () => {
  it.each([5, 2.5, 3_000_000_000])('refuses the limit %p', (limit) => {
    expect(() => new RateLimitWebAcl(testStack(), 'Acl', { resourceArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/x/1', limit, metricName: 'X', blockedBody: '{}' })).toThrow(/limit must be an integer from 10 to 2000000000/);
  });

  it('refuses a metric name with other characters', () => {
    expect(() => new RateLimitWebAcl(testStack(), 'Acl', { resourceArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/x/1', limit: 100, metricName: 'a b', blockedBody: '{}' })).toThrow(/metricName must be 1-128 letters/);
  });
});
