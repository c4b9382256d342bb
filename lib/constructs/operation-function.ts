/**
 * One management API operation as a Lambda function: the route table row's handler bundled with
 * esbuild, its own role (logs only; the caller grants what the route `needs`), its own log group,
 * Powertools settings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, METRICS } from '../../lambdas/contract/env';
import type { RouteDefinition } from '../../lambdas/contract/routes';
import { acknowledge } from '../private/nag';
import { PROJECT_ROOT } from '../private/project';

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

export interface OperationFunctionProps {
  /** The route table row this function serves. */
  readonly route: RouteDefinition;
  /**
   * Environment of the function, on top of Powertools' (service name, log level, metrics namespace).
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /**
   * IAM path of the function's role (SecretPrefixes.rolePath, so that it may use the deployment's secrets).
   * @default '/'
   */
  readonly rolePath?: string;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * Below API Gateway's 29-second integration timeout, so the gateway never answers before the function.
   * @default Duration.seconds(25)
   */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Repository root that `route.handler` is relative to.
   * @default - the folder holding package-lock.json above lib/
   */
  readonly projectRoot?: string;
}

export class OperationFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: OperationFunctionProps) {
    super(scope, id);
    const { route } = props;
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const timeout = props.timeout ?? Duration.seconds(25);
    if (timeout.toSeconds() >= 29) {
      throw new Error(`OperationFunction ${route.operation}: timeout ${timeout.toSeconds()} s must stay below API Gateway's 29-second integration timeout; pass a smaller \`timeout\`.`);
    }
    const entry = path.join(projectRoot, route.handler);
    const entryExists = fs.existsSync(entry);
    if (!entryExists && Stack.of(this).bundlingRequired) {
      throw new Error(`Handler file ${route.handler} of route ${route.operation} does not exist. Create it (exporting \`handler\`) or fix the route's \`handler\` in lambdas/contract/routes.ts.`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An own role rather than AWSLambdaBasicExecutionRole: it may write to this log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${route.operation}: ${route.method} ${route.path}`,
      path: props.rolePath,
    });
    this.logGroup.grantWrite(this.role);

    const common: nodejs.NodejsFunctionProps = {
      runtime: NODE_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: route.summary,
      environment: {
        [ENV.serviceName]: 'management-api',
        [ENV.logLevel]: 'INFO',
        [ENV.metricsNamespace]: METRICS.namespace,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    };
    if (entryExists) {
      this.function = new nodejs.NodejsFunction(this, 'Function', {
        ...common,
        entry,
        handler: 'handler',
        projectRoot,
        depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
        bundling: BUNDLING,
      });
    } else {
      // Only reached when bundling is skipped (tests): the template is complete, the code a placeholder.
      Annotations.of(this).addWarningV2('xks-key-manager:missing-handler', `Handler file ${route.handler} does not exist yet; synthesized with placeholder code because bundling is skipped.`);
      this.function = new nodejs.NodejsFunction(this, 'Function', {
        ...common,
        code: lambda.Code.fromInline(`exports.handler = async () => { throw new Error('${route.handler} was missing at synth'); };`),
        handler: 'index.handler',
      });
    }
    acknowledge(this.function, 'AwsSolutions-L1', 'The project targets the nodejs22.x runtime (toolchain pinned to Node 22; middy 6); newer runtimes are adopted deliberately, not by default.');
  }
}
