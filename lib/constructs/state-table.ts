/**
 * The one DynamoDB table that holds the control plane's state (README, "Architecture", State), with the key
 * schema the DynamoDB adapter expects (`STATE_TABLE` in lambdas/contract/env.ts).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATE_TABLE } from '../../lambdas/contract/env';
import { acknowledgeWildcardGrant } from '../private/nag';

export interface StateTableProps {
  /**
   * Customer-managed KMS key to encrypt the table with.
   * @default - the AWS managed key `aws/dynamodb` (TableEncryption.AWS_MANAGED)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table (customer state: key stores, keys, credentials metadata) when the
   * stack is deleted. Anything but RETAIN would lose the mapping from AWS KMS keys to HSM keys.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class StateTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removalPolicy === RemovalPolicy.DESTROY) {
      throw new Error(`StateTable ${this.node.path}: removalPolicy DESTROY would delete every key store and key mapping with the stack; use RETAIN or SNAPSHOT.`);
    }

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: STATE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: STATE_TABLE.listIndex.name,
      partitionKey: { name: STATE_TABLE.listIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.listIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** Read access (GetItem, Query, Scan, BatchGet, on the table and its indexes). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    this.acknowledgeIndexes(grantee);
    return this.table.grantReadData(grantee);
  }

  /** Read and write access, including transactions and conditional writes. */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    this.acknowledgeIndexes(grantee);
    return this.table.grantReadWriteData(grantee);
  }

  /**
   * What the XKS proxy writes besides reading: UpdateItem on the credential last-use items only
   * (`dynamodb:LeadingKeys` limited to their partition key prefix), in a transaction whose
   * ConditionCheckItem on the key store's record (limited to key store records) makes sure the
   * store still exists.
   */
  public grantRecordCredentialUse(grantee: iam.IGrantable): iam.Grant {
    const onItemsOf = (actions: string[], pkPrefix: string): iam.Grant =>
      iam.Grant.addToPrincipal({
        grantee,
        actions,
        resourceArns: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${pkPrefix}*`] } },
      });
    return onItemsOf(['dynamodb:UpdateItem'], STATE_TABLE.credentialUsePkPrefix).combine(onItemsOf(['dynamodb:ConditionCheckItem'], STATE_TABLE.keyStorePkPrefix));
  }

  private acknowledgeIndexes(grantee: iam.IGrantable): void {
    acknowledgeWildcardGrant(grantee, `${this.table.tableArn}/index/*`, 'Queries on the indexes of this one table (the list index); the wildcard covers index names of this table only.');
  }
}
