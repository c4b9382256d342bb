/**
 * The public regions of each AWS partition, as the endpoint metadata of the AWS SDK for JavaScript
 * v3 lists them (`@aws-sdk/core` 3.981, `util-endpoints/lib/aws/partitions`), minus the `*-global`
 * pseudo-regions and the isolated partitions.
 *
 * Why a list: the account's *enabled* regions come only from EC2 DescribeRegions or the Account
 * API's ListRegions, whose SDK clients this project does not ship; STS alone cannot tell whether an
 * account opted in to a region. Regions AWS opens later are still accepted wherever a region is
 * checked (accounts/account.ts matches a pattern, not this list); this list only answers
 * `POST /v1/cckm/aws/accounts`. Update it with the SDK.
 */
export type AwsPartition = 'aws' | 'aws-cn' | 'aws-us-gov';

export const PARTITION_REGIONS: Readonly<Record<AwsPartition, readonly string[]>> = {
  aws: [
    'af-south-1',
    'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2',
    'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
    'ca-central-1', 'ca-west-1',
    'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3',
    'il-central-1', 'me-central-1', 'me-south-1', 'me-west-1', 'mx-central-1', 'sa-east-1', 'sa-west-1',
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  ],
  'aws-cn': ['cn-north-1', 'cn-northwest-1'],
  'aws-us-gov': ['us-gov-east-1', 'us-gov-west-1'],
};

/** The partition of an ARN (`arn:<partition>:…`); undefined for one this project does not serve. */
export function partitionOfArn(arn: string): AwsPartition | undefined {
  const partition = arn.split(':')[1];
  return partition !== undefined && Object.hasOwn(PARTITION_REGIONS, partition) ? (partition as AwsPartition) : undefined;
}
