/**
 * Least-privilege access to the deployment's Secrets Manager secrets, one name prefix per kind of
 * secret (`SECRET_PREFIXES` in lambdas/contract/env.ts). The secrets themselves are created at run
 * time by the control plane, so access is granted on name patterns, never on `*`.
 *
 * The other half of the fence is the secrets' own resource policy, which the runtime attaches when
 * it creates each secret (adapters/aws/secrets-manager-secret-store.ts): it denies every principal
 * whose ARN is not `allowedPrincipalArnPattern`, i.e. every role outside `rolePath`. So the roles
 * this deployment grants secrets to must live under `rolePath`; a grant to any other role fails
 * synthesis rather than failing with AccessDenied at run time.
 */
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { SECRET_PREFIXES } from '../../lambdas/contract/env';
import { acknowledgeWildcardGrant } from '../private/nag';

/** The kinds of secrets a route may need (`RouteNeeds.secrets`). */
export type SecretKind = 'xks' | 'hsmPin';

/** Actions to read a secret's value. */
const READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
/**
 * Actions to create, replace and delete secrets (plus tagging, which CreateSecret with tags needs,
 * restoring one pending deletion, and attaching the resource policy at creation).
 */
const WRITE_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:TagResource',
  'secretsmanager:PutResourcePolicy',
];

export interface SecretPrefixesProps {
  /**
   * IAM path of the roles that may use the secrets; the secrets' resource policy denies all others.
   * @default `/xks-key-manager/<stack name>/`
   */
  readonly rolePath?: string;
}

export class SecretPrefixes extends Construct {
  /** IAM path (`/…/`) that every role granted access here must have (OperationFunction, HsmAgent, XksProxy set it). */
  public readonly rolePath: string;
  /** `arn:<partition>:iam::<account>:role<rolePath>*`: the principals the secrets' resource policy lets in. */
  public readonly allowedPrincipalArnPattern: string;

  constructor(scope: Construct, id: string, props: SecretPrefixesProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.rolePath = props.rolePath ?? `/xks-key-manager/${stack.stackName}/`;
    if (!/^\/(?:[\x21-\x2e\x30-\x7e]+\/)+$/.test(this.rolePath) || this.rolePath.length > 512) {
      throw new Error(`SecretPrefixes ${this.node.path}: rolePath must be an IAM path like /xks-key-manager/prod/ (slash-delimited, printable ASCII, at most 512 characters); got "${this.rolePath}".`);
    }
    this.allowedPrincipalArnPattern = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${this.rolePath.slice(1)}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  }

  /** ARN pattern of every secret of `kind` (Secrets Manager appends a random 6-character suffix to names). */
  public arnPattern(kind: SecretKind): string {
    return Arn.format(
      { service: 'secretsmanager', resource: 'secret', resourceName: `${SECRET_PREFIXES[kind]}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      Stack.of(this),
    );
  }

  /** Read the values of the secrets of `kind`. */
  public grantRead(grantee: iam.IGrantable, kind: SecretKind): iam.Grant {
    this.requireRolePath(grantee);
    this.acknowledgePattern(grantee, kind);
    return iam.Grant.addToPrincipal({ grantee, actions: READ_ACTIONS, resourceArns: [this.arnPattern(kind)] });
  }

  /** Read, create, replace and delete the secrets of `kind`, and attach their resource policy. */
  public grantReadWrite(grantee: iam.IGrantable, kind: SecretKind): iam.Grant {
    this.requireRolePath(grantee);
    this.acknowledgePattern(grantee, kind);
    return iam.Grant.addToPrincipal({ grantee, actions: [...READ_ACTIONS, ...WRITE_ACTIONS], resourceArns: [this.arnPattern(kind)] });
  }

  /** The secrets' resource policy would deny a role outside `rolePath`: refuse the grant at synthesis instead. */
  private requireRolePath(grantee: iam.IGrantable): void {
    const role = grantee.grantPrincipal;
    const path = role instanceof iam.Role ? (role.node.defaultChild as iam.CfnRole).path : undefined;
    if (path !== this.rolePath) {
      throw new Error(
        `SecretPrefixes ${this.node.path}: ${Construct.isConstruct(role) ? role.node.path : 'the grantee'} must be an iam.Role with path ${this.rolePath} (rolePath): the secrets' resource policy denies every other principal.`,
      );
    }
  }

  private acknowledgePattern(grantee: iam.IGrantable, kind: SecretKind): void {
    acknowledgeWildcardGrant(grantee, this.arnPattern(kind), `Secrets are created at run time, one per ${kind === 'xks' ? 'XKS credential' : 'HSM partition'}; the grant covers the names under ${SECRET_PREFIXES[kind]} only (plus the random suffix Secrets Manager appends).`);
  }
}
