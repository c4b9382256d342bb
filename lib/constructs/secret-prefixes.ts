/**
 * Least-privilege access to the deployment's Secrets Manager secrets, one name prefix per kind of
 * secret (`SECRET_PREFIXES` in lambdas/contract/env.ts). The secrets themselves are created at run
 * time by the control plane, so access is granted on name patterns, never on `*`.
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
/** Actions to create, replace and delete secrets (plus tagging, which CreateSecret with tags needs). */
const WRITE_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:TagResource',
];

export class SecretPrefixes extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
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
    this.acknowledgePattern(grantee, kind);
    return iam.Grant.addToPrincipal({ grantee, actions: READ_ACTIONS, resourceArns: [this.arnPattern(kind)] });
  }

  /** Read, create, replace and delete the secrets of `kind`. */
  public grantReadWrite(grantee: iam.IGrantable, kind: SecretKind): iam.Grant {
    this.acknowledgePattern(grantee, kind);
    return iam.Grant.addToPrincipal({ grantee, actions: [...READ_ACTIONS, ...WRITE_ACTIONS], resourceArns: [this.arnPattern(kind)] });
  }

  private acknowledgePattern(grantee: iam.IGrantable, kind: SecretKind): void {
    acknowledgeWildcardGrant(grantee, this.arnPattern(kind), `Secrets are created at run time, one per ${kind === 'xks' ? 'XKS credential' : 'HSM partition'}; the grant covers the names under ${SECRET_PREFIXES[kind]} only (plus the random suffix Secrets Manager appends).`);
  }
}
