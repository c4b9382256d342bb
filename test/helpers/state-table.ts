/**
 * A fresh state table per suite on DynamoDB Local. jest's globalSetup starts DynamoDB Local and
 * exports DYNAMODB_ENDPOINT; a single suite run without it needs DYNAMODB_ENDPOINT set by hand.
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbStateStore } from '../../lambdas/adapters/dynamodb/dynamodb-state-store';
import { createStateTableIfMissing } from '../../lambdas/adapters/dynamodb/state-table';
import { DynamoDbCredentialUsage } from '../../lambdas/adapters/dynamodb/dynamodb-credential-usage';

export interface TestStateTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly store: DynamoDbStateStore;
  /** Credential last-use records in the same table (what the XKS proxy writes). */
  readonly credentialUsage: DynamoDbCredentialUsage;
  /** Drops the table and closes the client. */
  dispose(): Promise<void>;
}

/** A DynamoDB client for DynamoDB Local (dummy credentials: DynamoDB Local accepts any). */
export function dynamoDbLocalClient(): DynamoDBClient {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) {
    throw new Error('DYNAMODB_ENDPOINT is not set: run through jest (globalSetup starts DynamoDB Local) or export it');
  }
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

export async function createTestStateTable(prefix = 'state'): Promise<TestStateTable> {
  const client = dynamoDbLocalClient();
  const tableName = `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
  await createStateTableIfMissing(client, tableName);
  return {
    client,
    tableName,
    store: new DynamoDbStateStore({ client, tableName }),
    credentialUsage: new DynamoDbCredentialUsage({ client, tableName }),
    async dispose() {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}
