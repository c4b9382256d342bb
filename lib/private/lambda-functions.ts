/**
 * What every Lambda function of the project has, written once: its own log group (kept when the
 * stack goes), a role that may write to that log group and nothing else until the caller grants
 * more, JSON logging, Powertools' settings, and for the Node.js functions the project's runtime
 * and bundling. The constructs (lib/constructs/) add what is theirs: grants, sizes, environment.
 */
import * as path from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV, METRICS } from '../../lambdas/contract/env';
import { acknowledge } from './nag';
import { PROJECT_ROOT } from './project';

/** Runtime of every zip function (the project targets Node.js 22 on Lambda). */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_22_X;

/**
 * Bundling: CommonJS output, like the project's own modules (tsconfig `module: commonjs`).
 * esbuild converts the ESM-only dependencies (middy) while bundling, and a module the runtime
 * `require()`s lazily stays lazy; in ESM output an external package imported anywhere in the
 * bundle would be imported eagerly at cold start. (Had we chosen ESM output, it would need the
 * banner `import { createRequire } from 'module'; const require = createRequire(import.meta.url);`
 * for the CommonJS dependencies that require Node built-ins.)
 *
 * pkcs11js stays external: it is a native addon that only local mode's composition reaches (the
 * management functions reach PKCS#11 through the HSM agent, never directly), so it is not shipped.
 */
export const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.CJS,
  target: 'node22',
  mainFields: ['module', 'main'],
  // The SDK is bundled at the versions package-lock.json pins, not the runtime's.
  externalModules: ['pkcs11js'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
};

/** A function's own log group. @default retention logs.RetentionDays.ONE_YEAR */
export function functionLogGroup(scope: Construct, id: string, retention?: logs.RetentionDays): logs.LogGroup {
  return new logs.LogGroup(scope, id, { retention: retention ?? logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
}

/**
 * A function's own role (rather than AWSLambdaBasicExecutionRole): it may write to `logGroup` only.
 * `path`: the IAM path that lets the role use the deployment's secrets (SecretPrefixes.rolePathFor).
 */
export function functionRole(scope: Construct, id: string, logGroup: logs.ILogGroup, description: string, path?: string): iam.Role {
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description, ...(path === undefined ? {} : { path }) });
  logGroup.grantWrite(role);
  return role;
}

/** What Powertools reads in every function: the service name its logs and metrics carry, the log level, the metrics namespace. */
export function powertoolsEnvironment(serviceName: string): Record<string, string> {
  return { [ENV.serviceName]: serviceName, [ENV.logLevel]: 'INFO', [ENV.metricsNamespace]: METRICS.namespace };
}

export interface NodeFunctionProps {
  /**
   * The handler file (exporting `handler`), relative to the project root, bundled with the
   * project's esbuild settings; or `placeholder`: inline code that fails with this message, for a
   * file that does not exist while bundling is skipped (tests).
   */
  readonly code: { readonly entry: string } | { readonly placeholder: string };
  readonly description: string;
  /** Powertools' service name (`POWERTOOLS_SERVICE_NAME`). */
  readonly serviceName: string;
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** On top of Powertools' settings and source maps. @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** The folder `code.entry` is relative to. @default - the repository root (PROJECT_ROOT) */
  readonly projectRoot?: string;
}

/** A Node.js function on the project's runtime (nodejs22.x), bundled from `lambdas/` (or a placeholder, see `code`). */
export function nodeFunction(scope: Construct, id: string, props: NodeFunctionProps): nodejs.NodejsFunction {
  const common: nodejs.NodejsFunctionProps = {
    runtime: NODE_RUNTIME,
    architecture: props.architecture ?? lambda.Architecture.ARM_64,
    memorySize: props.memorySize ?? 512,
    timeout: props.timeout,
    role: props.role,
    logGroup: props.logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    description: props.description,
    environment: { ...powertoolsEnvironment(props.serviceName), NODE_OPTIONS: '--enable-source-maps', ...props.environment },
  };
  const projectRoot = props.projectRoot ?? PROJECT_ROOT;
  const fn = 'entry' in props.code
    ? new nodejs.NodejsFunction(scope, id, {
        ...common,
        entry: path.join(projectRoot, props.code.entry),
        handler: 'handler',
        projectRoot,
        depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
        bundling: BUNDLING,
      })
    : new nodejs.NodejsFunction(scope, id, { ...common, code: lambda.Code.fromInline(`exports.handler = async () => { throw new Error('${props.code.placeholder}'); };`), handler: 'index.handler' });
  acknowledge(fn, 'AwsSolutions-L1', 'The project targets the nodejs22.x runtime (toolchain pinned to Node 22; middy 6); newer runtimes are adopted deliberately, not by default.');
  return fn;
}

export interface VpcImageFunctionProps {
  /** The container image's entry point (ProxyImage.code). */
  readonly code: lambda.DockerImageCode;
  readonly architecture: lambda.Architecture;
  readonly description: string;
  /** Powertools' service name (`POWERTOOLS_SERVICE_NAME`). */
  readonly serviceName: string;
  /** A VPC function's role (vpc-function-role.ts). */
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** On top of Powertools' settings. @default {} */
  readonly environment?: Record<string, string>;
}

/** A function of the proxy's container image, in the VPC next to the HSM (XKS proxy, HSM agent). */
export function vpcImageFunction(scope: Construct, id: string, props: VpcImageFunctionProps): lambda.DockerImageFunction {
  return new lambda.DockerImageFunction(scope, id, {
    description: props.description,
    code: props.code,
    architecture: props.architecture,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role: props.role,
    logGroup: props.logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    securityGroups: [props.securityGroup],
    environment: { ...powertoolsEnvironment(props.serviceName), ...props.environment },
  });
}
