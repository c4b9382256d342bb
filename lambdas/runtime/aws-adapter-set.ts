/**
 * The AWS adapter set: every port over its AWS service (real @aws-sdk clients, endpoints
 * overridable for DynamoDB Local). Settings a port needs are required, by name, when that port is
 * first used (`requireSetting`), so a function that does not take a port does not need its
 * settings.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { ENV } from '../contract/env';
import { SdkAwsKms } from '../adapters/aws/kms-sdk';
import { SdkCloudHsmClusterHsms, SdkCloudHsmClusters } from '../adapters/aws/cloudhsm-sdk';
import { parseQueueUrls, SqsJobQueue } from '../adapters/aws/sqs-job-queue';
import { CognitoTokenVerifier } from '../adapters/aws/cognito-token-verifier';
import { EventBridgeJobScheduler } from '../adapters/aws/event-bridge-job-scheduler';
import { LambdaHsmAgent } from '../adapters/aws/lambda-hsm-agent';
import { SecretsManagerSecretStore } from '../adapters/aws/secrets-manager-secret-store';
import { StsAccountAccess } from '../adapters/aws/sts-account-access';
import { DynamoDbCredentialUsage } from '../adapters/dynamodb/dynamodb-credential-usage';
import { DynamoDbStateStore } from '../adapters/dynamodb/dynamodb-state-store';
import { type AdapterSet, type Makers, type Ports, systemClock, uuidGenerator } from './ports';
import { type AdapterSettings, requireSetting } from './config';

export const awsAdapterSet: AdapterSet = (settings) => ({
  ...stateTableAdapters(settings),
  secrets: () =>
    new SecretsManagerSecretStore({
      client: new SecretsManagerClient({}),
      allowedPrincipalArnPattern: settings.secretsAllowedPrincipalArnPattern,
      namePrefix: settings.secretNamePrefix,
      kmsKeyId: settings.secretsKmsKeyId,
    }),
  hsmAgent: () => new LambdaHsmAgent({ functionName: requireSetting(settings.hsmAgentFunctionName, ENV.hsmAgentFunctionName) }),
  tokens: () =>
    CognitoTokenVerifier.create({
      userPoolId: requireSetting(settings.userPoolId, ENV.userPoolId),
      clientId: requireSetting(settings.userPoolClientId, ENV.userPoolClientId),
    }),
  awsAccountAccess: () => new StsAccountAccess({ client: new STSClient({}) }),
  accountRoleVerifier: (ports) => ports.awsAccountAccess,
  ...awsKmsAdapters(),
  cloudHsm: () => new SdkCloudHsmClusters(settings.cloudHsmEndpoint === undefined ? {} : { endpoint: settings.cloudHsmEndpoint }),
  cloudHsmClusterHsms: () => new SdkCloudHsmClusterHsms(settings.cloudHsmEndpoint === undefined ? {} : { endpoint: settings.cloudHsmEndpoint }),
  clock: () => systemClock,
  ids: () => uuidGenerator,
  jobScheduler: () =>
    new EventBridgeJobScheduler(
      {
        groupName: requireSetting(settings.jobScheduleGroup, ENV.jobScheduleGroup),
        runnerFunctionArn: requireSetting(settings.jobRunnerFunctionArn, ENV.jobRunnerFunctionArn),
        schedulerRoleArn: requireSetting(settings.jobSchedulerRoleArn, ENV.jobSchedulerRoleArn),
        deadLetterQueueArn: requireSetting(settings.jobDeadLetterQueueArn, ENV.jobDeadLetterQueueArn),
      },
      new SchedulerClient({}),
      new LambdaClient({}),
    ),
  jobQueue: () => new SqsJobQueue({ client: new SQSClient({}), queueUrls: parseQueueUrls(settings.jobQueueUrls) }),
});

/** The ports over the state table, through one DynamoDB client (DynamoDB Local when the settings name an endpoint). */
export function stateTableAdapters(settings: AdapterSettings): Pick<Makers<Ports>, 'state' | 'credentialUsage'> {
  let client: DynamoDBClient | undefined;
  const dynamoDb = (): DynamoDBClient => (client ??= new DynamoDBClient(settings.dynamoDbEndpoint ? { endpoint: settings.dynamoDbEndpoint } : {}));
  const tableName = (): string => requireSetting(settings.stateTableName, ENV.stateTableName);
  return {
    state: () => new DynamoDbStateStore({ client: dynamoDb(), tableName: tableName() }),
    credentialUsage: () => new DynamoDbCredentialUsage({ client: dynamoDb(), tableName: tableName() }),
  };
}

/** One SDK adapter serves both halves of the AWS KMS port (one client and role cache). */
export function awsKmsAdapters(): Pick<Makers<Ports>, 'awsKms' | 'awsKmsKeys'> {
  let kms: SdkAwsKms | undefined;
  const sdkAwsKms = (): SdkAwsKms => (kms ??= new SdkAwsKms());
  return { awsKms: sdkAwsKms, awsKmsKeys: sdkAwsKms };
}
