/**
 * The HSM agent: the proxy's image run with its second entry point, in the VPC next to the HSM.
 * It is the only way the control plane reaches PKCS#11 (README, "Architecture"); it can read HSM partition PINs
 * and nothing else, and only the functions granted `grantInvoke` may call it.
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionLogGroup, vpcImageFunction } from '../private/lambda-functions';
import { vpcFunctionRole } from '../private/vpc-function-role';
import type { ProxyImage } from './proxy-image';
import type { SecretPrefixes } from './secret-prefixes';

export interface HsmAgentProps {
  readonly image: ProxyImage;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Security group that reaches the HSM (DataPlaneNetwork.hsmClientSecurityGroup). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** HSM partition PINs are read from here. */
  readonly secrets: SecretPrefixes;
  /** @default 1024 */
  readonly memorySize?: number;
  /**
   * Longer than the agent's own PKCS#11 budget (10 s per call) so that it answers with a reason
   * rather than being cut off.
   * @default Duration.seconds(20)
   */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

export class HsmAgent extends Construct {
  public readonly function: lambda.DockerImageFunction;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HsmAgentProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(20);
    if (timeout.toSeconds() <= 10) {
      throw new Error(`HsmAgent ${this.node.path}: timeout must exceed the agent's 10-second PKCS#11 budget (AGENT_CALL_TIMEOUT_MS); got ${timeout.toSeconds()} s.`);
    }
    this.logGroup = functionLogGroup(this, 'Logs', props.logRetention);
    const role = vpcFunctionRole(this, 'Role', this.logGroup, 'HSM agent: PKCS#11 key management for the control plane', props.secrets.rolePathFor('read'));
    this.function = vpcImageFunction(this, 'Function', {
      description: 'HSM agent (XKS proxy image, second entry point)',
      code: props.image.code('hsmAgent'),
      architecture: props.image.architecture,
      serviceName: 'hsm-agent',
      memorySize: props.memorySize ?? 1024,
      timeout,
      role,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroup: props.securityGroup,
      environment: props.secrets.environmentFor('read'),
    });
    props.secrets.grantRead(role, 'hsmPin');
  }

  /** Allows `grantee` to invoke the agent (the control plane functions whose route `needs.hsmAgent`). */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    // The unqualified ARN only (Function.grantInvoke adds `:*` for every version and alias).
    return iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [this.function.functionArn] });
  }
}
