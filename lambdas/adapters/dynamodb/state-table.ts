/**
 * The state table's item layout (one table, `STATE_TABLE` in contract/env.ts) and the helper that
 * creates it where CDK does not: DynamoDB Local for `npm start` and the integration tests.
 *
 * Items:
 *  - entity      pk=`<kind>#<id>`            sk=`entity`  listPk=`<kind>`  listSk=`<id>`
 *  - name claim  pk=`name#<kind>#<name>`     sk=`name`    owner=<id>      (not in the list index)
 *  - credential last use  pk=`credentialUse#<key store id>`  sk=`<credential id>`  lastUsedAt
 *                (written by the XKS proxy; not in the list index)
 * The list index is sparse: only entities carry `listPk`, so name claims never show up in lists.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../../contract/env';
import type { EntityKind } from '../../core/ports/state-store';

export const ENTITY_SK = 'entity';
export const NAME_SK = 'name';

export const entityPk = (kind: EntityKind, id: string): string => `${kind}#${id}`;
export const namePk = (kind: EntityKind, name: string): string => `name#${kind}#${name}`;
export const credentialUsePk = (keyStoreId: string): string => `${STATE_TABLE.credentialUsePkPrefix}${keyStoreId}`;

/** Creates the state table (on-demand, with the list index) unless it exists; waits until it is active. */
export async function createStateTableIfMissing(client: DynamoDBClient, tableName: string): Promise<void> {
  if (!(await tableExists(client, tableName))) {
    const { partitionKey, sortKey, listIndex } = STATE_TABLE;
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [partitionKey, sortKey, listIndex.partitionKey, listIndex.sortKey].map((name) => ({
            AttributeName: name,
            AttributeType: 'S',
          })),
          KeySchema: [
            { AttributeName: partitionKey, KeyType: 'HASH' },
            { AttributeName: sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: listIndex.name,
              KeySchema: [
                { AttributeName: listIndex.partitionKey, KeyType: 'HASH' },
                { AttributeName: listIndex.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      );
    } catch (error) {
      // Another process created it between our describe and create: fine, wait for it below.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}
