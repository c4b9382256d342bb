/**
 * One management API operation as a Lambda function: the route table row's handler bundled with
 * esbuild, its own role (logs only; the caller grants what the route `needs`), its own log group,
 * Powertools settings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../lambdas/contract/routes';
import { functionLogGroup, functionRole, nodeFunction } from '../private/lambda-functions';
import { PROJECT_ROOT } from '../private/project';

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

    this.logGroup = functionLogGroup(this, 'Logs', props.logRetention);
    this.role = functionRole(this, 'Role', this.logGroup, `${route.operation}: ${route.method} ${route.path}`, props.rolePath);
    if (!entryExists) {
      Annotations.of(this).addWarningV2('xks-key-manager:missing-handler', `Handler file ${route.handler} does not exist yet; synthesized with placeholder code because bundling is skipped.`);
    }
    this.function = nodeFunction(this, 'Function', {
      // Placeholder only when bundling is skipped (tests): the template is complete, the code a stand-in.
      code: entryExists ? { entry: route.handler } : { placeholder: `${route.handler} was missing at synth` },
      projectRoot,
      description: route.summary,
      serviceName: 'management-api',
      role: this.role,
      logGroup: this.logGroup,
      timeout,
      memorySize: props.memorySize,
      architecture: props.architecture,
      environment: props.environment,
    });
  }
}
