/**
 * `CredentialUsage` in the state table: one item per credential, `pk=credentialUse#<store id>`,
 * `sk=<credential id>`, `lastUsedAt` (ISO time). Not in the list index and not an entity, so the
 * proxy's writes never touch a key store's record or version. A write keeps the later time
 * (a condition), so proxies in several containers never move it backwards.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contract/env';
import type { CredentialUsage } from '../../core/ports/credential-usage';
import { credentialUsePk } from './state-table';

const { partitionKey: PK, sortKey: SK } = STATE_TABLE;

export class DynamoDbCredentialUsage implements CredentialUsage {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly props: { readonly client: DynamoDBClient; readonly tableName: string }) {
    this.documents = DynamoDBDocumentClient.from(props.client);
  }

  async recordUse(keyStoreId: string, credentialId: string, at: Date): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.props.tableName,
          Key: { [PK]: credentialUsePk(keyStoreId), [SK]: credentialId },
          UpdateExpression: 'SET lastUsedAt = :at',
          ConditionExpression: 'attribute_not_exists(lastUsedAt) OR lastUsedAt < :at',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error; // a later use is already there
    }
  }

  async lastUses(keyStoreId: string): Promise<ReadonlyMap<string, Date>> {
    const uses = new Map<string, Date>();
    const pages = paginateQuery(
      { client: this.documents },
      {
        TableName: this.props.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':pk': credentialUsePk(keyStoreId) },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) uses.set(String(item[SK]), new Date(String(item.lastUsedAt)));
    }
    return uses;
  }
}
