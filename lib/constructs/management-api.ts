/**
 * The management API (the CCKM-shaped control plane), built from the route table: one API Gateway
 * resource tree, one OperationFunction per route with exactly the grants its `needs` declare, the
 * Cognito authorizer (access tokens with API_SCOPE) on every route but the public ones, request
 * validation from each route's request schema, and a stage with access logs, throttling and,
 * optionally, an AWS WAF web ACL.
 *
 * Each area of the route table (lib/private/route-areas.ts) is a nested stack holding its routes'
 * functions, roles, log groups, methods, permissions and models; the API itself, its resource tree,
 * authorizer, validator, deployment and stage stay in the parent. So every template stays well inside
 * CloudFormation's 500 resources as routes are added (test/infra/deploy-limits.test.ts).
 */
import { Aws, Duration, NestedStack, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACCOUNT_ROLE_NAME_PREFIX, API_SCOPE, ENV } from '../../lambdas/contract/env';
import { routes as allRoutes, type RouteDefinition, type SecretAccess } from '../../lambdas/contract/routes';
import { toApiGatewaySchema } from '../private/api-gateway-schema';
import { grantAssumeAccountRoles, grantAwsKms, grantCloudHsm } from '../private/kms-grants';
import { acknowledge, acknowledgeFinding } from '../private/nag';
import { routeAreas } from '../private/route-areas';
import type { HsmAgent } from './hsm-agent';
import type { JobScheduling } from './job-scheduling';
import { type JobWorkers, jobQueueUrls } from './job-workers';
import { OperationFunction } from './operation-function';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { JobKind } from '../../lambdas/contract/jobs';
import { RateLimitWebAcl } from './rate-limit-web-acl';
import type { SecretPrefixes } from './secret-prefixes';
import type { StateTable } from './state-table';

export interface ManagementApiProps {
  readonly stateTable: StateTable;
  readonly secrets: SecretPrefixes;
  /**
   * The pool whose access tokens (with `API_SCOPE`) the Cognito authorizer accepts, and the
   * functions verify again.
   */
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  /** The job queues and workers; required when a route `needs.startsJobs`. @default - none */
  readonly jobWorkers?: JobWorkers;
  /** The HSM agent; required when a route `needs.hsmAgent`. @default - none */
  readonly hsmAgent?: HsmAgent;
  /** The schedule group and job runner; required when a route `needs.jobScheduler`. @default - none */
  readonly jobScheduling?: JobScheduling;
  /** @default - every route of lambdas/contract/routes.ts */
  readonly routes?: readonly RouteDefinition[];
  /**
   * IAM role ARN pattern that functions with `needs.assumeAccountRole` may assume: the roles the
   * customer creates in each registered account for the key manager.
   * @default `arn:<partition>:iam::*:role/xks-key-manager-*`
   */
  readonly accountRoleArnPattern?: string;
  /** @default lambda.Architecture.ARM_64 (set by OperationFunction) */
  readonly architecture?: lambda.Architecture;
  /** Stage name; `api` makes URLs read like CCKM's `/api/v1/cckm/...`. @default 'api' */
  readonly stageName?: string;
  /** Steady-state requests per second of the whole stage. @default 50 */
  readonly throttlingRateLimit?: number;
  /** Burst of the whole stage. @default 100 */
  readonly throttlingBurstLimit?: number;
  /** Requests per second of each unauthenticated route (the store health check), stage-wide. @default 10 */
  readonly publicRouteRateLimit?: number;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Requests per source IP address in any 5-minute window that an AWS WAF web ACL on the stage
   * lets through before blocking the address with a 429.
   * @default - no web ACL
   */
  readonly webAclRateLimit?: number;
  /**
   * Whether the XKS proxy's ALB verifies client certificates against a trust store. Only then may
   * key stores enable mTLS; without it the key store routes refuse `mtls_enabled: true` (400).
   * @default false
   */
  readonly mtlsTrustStore?: boolean;
}

export class ManagementApi extends Construct {
  public readonly api: apigateway.RestApi;
  /** One function per route, by operation name. */
  public readonly functions: ReadonlyMap<string, OperationFunction>;
  public readonly accessLogs: logs.LogGroup;
  /** The nested stack of each area of the route table (lib/private/route-areas.ts), by area name. */
  public readonly areaStacks: ReadonlyMap<string, NestedStack>;

  constructor(scope: Construct, id: string, props: ManagementApiProps) {
    super(scope, id);
    const routes = props.routes ?? allRoutes;
    const stageName = props.stageName ?? 'api';
    const rateLimit = props.throttlingRateLimit ?? 50;
    const burstLimit = props.throttlingBurstLimit ?? 100;
    const publicRateLimit = props.publicRouteRateLimit ?? 10;
    const accountRoleArnPattern = props.accountRoleArnPattern ?? `arn:${Aws.PARTITION}:iam::*:role/${ACCOUNT_ROLE_NAME_PREFIX}*`;
    validateRoutes(routes, props);
    if (publicRateLimit > rateLimit) throw new Error(`ManagementApi: publicRouteRateLimit (${publicRateLimit}) must not exceed throttlingRateLimit (${rateLimit}).`);

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const publicMethodOptions = Object.fromEntries(
      routes.filter((r) => r.access.kind === 'public').map((r) => [`${r.path}/${r.method}`, { throttlingRateLimit: publicRateLimit, throttlingBurstLimit: publicRateLimit * 2 }]),
    );
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'XKS key manager: CCKM-shaped management API',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // request bodies carry PINs: never log them
        metricsEnabled: true,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        methodOptions: publicMethodOptions,
      },
    });
    acknowledgeFinding(this.api, 'AwsSolutions-IAM4', 'Policy', iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs').managedPolicyArn, 'API Gateway\'s account-level CloudWatch role uses the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to enable execution logs.');
    if (props.webAclRateLimit === undefined) {
      acknowledge(this.api, 'AwsSolutions-APIG3', 'The deployment was configured without AWS WAF (-c waf=false): every route but the rate-limited store health check requires a Cognito token, and stage and per-route throttling cap load.');
    } else {
      new RateLimitWebAcl(this, 'WebAcl', {
        resourceArn: this.api.deploymentStage.stageArn,
        limit: props.webAclRateLimit,
        metricName: 'ManagementApi',
        blockedBody: '{"code":429,"codeDesc":"NCERRTooManyRequests: too many requests from this address","message":"too many requests from this address"}',
      });
    }
    this.addErrorResponses();

    const authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [props.userPool],
      resultsCacheTtl: Duration.minutes(5),
    });
    const bodyValidator = new apigateway.RequestValidator(this, 'BodyValidator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    // Each area of the route table in a nested stack: its functions, roles, log groups, methods,
    // permissions and models. The API, its resource tree, authorizer, validator and stage stay here.
    const functions = new Map<string, OperationFunction>();
    const areas = new Map<string, NestedStack>();
    for (const area of routeAreas(routes)) {
      const areaStack = new NestedStack(this, `${area.name}Routes`, { description: `Management API routes: ${area.name} (${area.routes.map((r) => r.operation).join(', ')})` });
      areas.set(area.name, areaStack);
      for (const route of area.routes) {
        const operation = this.addRoute(areaStack, route, props, { authorizer, bodyValidator, accountRoleArnPattern, stageName });
        functions.set(route.operation, operation);
      }
    }
    this.areaStacks = areas;
    this.functions = functions;
  }

  /** One route: its function (with exactly the grants its `needs` declare), method, permission and request model, in `scope`. */
  private addRoute(scope: Construct, route: RouteDefinition, props: ManagementApiProps, shared: { authorizer: apigateway.IAuthorizer; bodyValidator: apigateway.IRequestValidator; accountRoleArnPattern: string; stageName: string }): OperationFunction {
    const secretAccess = strongestSecretAccess(route);
    const operation = new OperationFunction(scope, route.operation, {
      route,
      rolePath: props.secrets.rolePathFor(secretAccess),
      architecture: props.architecture,
      logRetention: props.logRetention,
      environment: {
        [ENV.stateTableName]: props.stateTable.table.tableName,
        [ENV.userPoolId]: props.userPool.userPoolId,
        [ENV.userPoolClientId]: props.userPoolClient.userPoolClientId,
        ...(route.needs.hsmAgent && props.hsmAgent ? { [ENV.hsmAgentFunctionName]: props.hsmAgent.function.functionName } : {}),
        ...(route.needs.jobScheduler && props.jobScheduling ? props.jobScheduling.environment : {}),
        ...(props.mtlsTrustStore ? { [ENV.xksAlbMtlsVerify]: 'true' } : {}),
        // The secrets' namespace; for writers also their key and the resource policy each new secret gets.
        ...(secretAccess === 'none' ? {} : props.secrets.environmentFor(secretAccess)),
        ...(route.needs.startsJobs?.length ? { [ENV.jobQueueUrls]: jobQueueUrls(scope, route.needs.startsJobs.map((kind) => [kind, this.jobQueue(route, props, kind)])) } : {}),
      },
    });
    this.grantNeeds(route, operation.role, props, shared.accountRoleArnPattern);

    const isPublic = route.access.kind === 'public';
    // The method is created in the area's stack on the API's resource (in this stack); it still
    // joins the API's deployment, whose logical id changes with it.
    const method = new apigateway.Method(scope, `${route.operation}Method`, {
      resource: this.api.root.resourceForPath(route.path),
      httpMethod: route.method,
      integration: new apigateway.AwsIntegration({ proxy: true, service: 'lambda', path: `2015-03-31/functions/${operation.function.functionArn}/invocations` }),
      options: {
        operationName: route.operation,
        ...(isPublic ? { authorizationType: apigateway.AuthorizationType.NONE } : { authorizer: shared.authorizer, authorizationType: apigateway.AuthorizationType.COGNITO, authorizationScopes: [API_SCOPE] }),
        requestValidator: shared.bodyValidator,
        ...(route.requestSchema
          ? { requestModels: { 'application/json': new apigateway.Model(scope, `${route.operation}Request`, { restApi: this.api, contentType: 'application/json', modelName: `${route.operation}Request`, schema: toApiGatewaySchema(route.requestSchema) }) } }
          : {}),
      },
    });
    // API Gateway may invoke the function through this method and stage only. Written here rather
    // than by LambdaIntegration, whose permission names the stage by reference: from the area's
    // stack that reference would make the stage wait for the area and the area for the stage.
    operation.function.addPermission('InvokeFromApi', {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: this.api.arnForExecuteApi(route.method, route.path.replace(/\{[^}]+\}/g, '*'), shared.stageName),
    });
    if (isPublic) {
      const reason = `${route.operation} is the key store deep health check, unauthenticated by design (CCKM's operator guide, "Health Check URI Path": unauthenticated, rate limited); it reveals only healthy or not and is throttled per route at the stage and per store in the function.`;
      acknowledge(method, 'AwsSolutions-APIG4', reason);
      acknowledge(method, 'AwsSolutions-COG4', reason);
    }
    return operation;
  }

  /** The queue of job kind `kind`, which `route` starts (JobWorkers in the props). */
  private jobQueue(route: RouteDefinition, props: ManagementApiProps, kind: JobKind): sqs.IQueue {
    const queue = props.jobWorkers?.queue(kind);
    if (queue === undefined) throw new Error(`ManagementApi: route ${route.operation} starts ${kind} jobs; pass \`jobWorkers\` with a worker for that kind (lambdas/contract/jobs.ts).`);
    return queue;
  }

  /** The stage's invoke URL (ends with `/<stageName>/`). */
  public get url(): string {
    return this.api.url;
  }

  /** Grants a route's function exactly what `route.needs` declares. */
  private grantNeeds(route: RouteDefinition, role: iam.IRole, props: ManagementApiProps, accountRoleArnPattern: string): void {
    const { needs } = route;
    if (needs.state === 'readwrite') props.stateTable.grantReadWrite(role);
    else if (needs.state === 'read') props.stateTable.grantRead(role);
    for (const kind of ['xks', 'hsmPin', 'cloudHsmPassword'] as const) {
      const access = needs.secrets?.[kind];
      if (access) props.secrets.grant(role, kind, access);
    }
    if (needs.hsmAgent && props.hsmAgent) props.hsmAgent.grantInvoke(role);
    if (needs.jobScheduler && props.jobScheduling) props.jobScheduling.grantScheduling(role);
    if (needs.assumeAccountRole) grantAssumeAccountRoles(role, accountRoleArnPattern);
    if (needs.awsKms && needs.awsKms.length > 0) grantAwsKms(role, needs.awsKms);
    if (needs.cloudHsm && needs.cloudHsm.length > 0) grantCloudHsm(role, needs.cloudHsm);
    for (const kind of needs.startsJobs ?? []) this.jobQueue(route, props, kind).grantSendMessages(role);
  }

  /** CCKM-shaped JSON errors (`{code, codeDesc, message}`) for what API Gateway answers itself. */
  private addErrorResponses(): void {
    const responses: ReadonlyArray<[string, apigateway.ResponseType, number, string, string]> = [
      ['BadRequestBody', apigateway.ResponseType.BAD_REQUEST_BODY, 400, 'NCERRInvalidParamValue', '$context.error.validationErrorString'],
      ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED, 401, 'NCERRUnauthorizedAccess', 'missing or invalid bearer token'],
      ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED, 403, 'NCERRForbidden', 'not permitted'],
      ['Throttled', apigateway.ResponseType.THROTTLED, 429, 'NCERRTooManyRequests', 'too many requests'],
    ];
    for (const [id, type, status, code, message] of responses) {
      this.api.addGatewayResponse(id, {
        type,
        statusCode: String(status),
        templates: { 'application/json': `{"code":${status},"codeDesc":"${code}: ${message}","message":"${message}"}` },
      });
    }
  }
}

/** What a route does with secrets at most: `write` over `read` over `delete` (its role's path and environment follow). */
function strongestSecretAccess(route: RouteDefinition): SecretAccess | 'none' {
  const accesses = Object.values(route.needs.secrets ?? {});
  return (['write', 'read', 'delete'] as const).find((a) => accesses.includes(a)) ?? 'none';
}

function validateRoutes(routes: readonly RouteDefinition[], props: ManagementApiProps): void {
  if (routes.length === 0) throw new Error('ManagementApi: the route table is empty; pass `routes` with at least one route.');
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new Error(`ManagementApi: two routes for ${key}; each method and path appears once in lambdas/contract/routes.ts.`);
    seen.add(key);
    if (!/^[A-Za-z0-9]+$/.test(route.operation)) throw new Error(`ManagementApi: operation name "${route.operation}" must be alphanumeric (it names the function and the request model).`);
    if (route.needs.hsmAgent && !props.hsmAgent) {
      throw new Error(`ManagementApi: route ${route.operation} needs the HSM agent; pass \`hsmAgent\` (an HsmAgent construct).`);
    }
    if (route.needs.jobScheduler && !props.jobScheduling) {
      throw new Error(`ManagementApi: route ${route.operation} needs the job scheduler; pass \`jobScheduling\` (a JobScheduling construct).`);
    }
  }
}
