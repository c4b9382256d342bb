/**
 * `CredentialUsage` in the state table: one item per credential, `pk=credentialUse#<store id>`,
 * `sk=<credential id>`, `lastUsedAt` (ISO time). Not in the list index and not an entity, so the
 * proxy's writes never touch a key store's record or version. A write keeps the later time
 * (a condition), so proxies in several containers never move it backwards. A deleted store's
 * items are removed with it (`forgetStore`, called by the key store service right after the
 * store's delete transaction). A proxy may still hold the deleted store in its cache for a few
 * seconds, so each write is one transaction with a check that the store's record exists: a use
 * recorded after the delete writes nothing, and one recorded before it is there for
 * `forgetStore` to find. (The write is throttled to once a minute per credential, so the
 * transaction's doubled write cost does not matter.)
 */
import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, paginateQuery, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contract/env';
import type { CredentialUsage } from '../../core/ports/credential-usage';
import { credentialUsePk, ENTITY_SK, entityPk } from './state-table';

const { partitionKey: PK, sortKey: SK } = STATE_TABLE;
/** DynamoDB's BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_LIMIT = 25;
/** Unprocessed items (throttling) are sent again with backoff, this many times in all. */
const MAX_BATCH_ATTEMPTS = 5;

export class DynamoDbCredentialUsage implements CredentialUsage {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly props: { readonly client: DynamoDBClient; readonly tableName: string }) {
    this.documents = DynamoDBDocumentClient.from(props.client);
  }

  async recordUse(keyStoreId: string, credentialId: string, at: Date): Promise<void> {
    const { tableName: TableName } = this.props;
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            { ConditionCheck: { TableName, Key: { [PK]: entityPk('keyStore', keyStoreId), [SK]: ENTITY_SK }, ConditionExpression: 'attribute_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } } },
            {
              Update: {
                TableName,
                Key: { [PK]: credentialUsePk(keyStoreId), [SK]: credentialId },
                UpdateExpression: 'SET lastUsedAt = :at',
                ConditionExpression: 'attribute_not_exists(lastUsedAt) OR lastUsedAt < :at',
                ExpressionAttributeValues: { ':at': at.toISOString() },
              },
            },
          ],
        }),
      );
    } catch (error) {
      // The store is gone, or a later use is already there: either way nothing to write.
      if (!(error instanceof TransactionCanceledException && error.CancellationReasons?.every((r) => r.Code === 'None' || r.Code === 'ConditionalCheckFailed'))) throw error;
    }
  }

  async lastUses(keyStoreId: string): Promise<ReadonlyMap<string, Date>> {
    const uses = new Map<string, Date>();
    for await (const item of this.itemsOf(keyStoreId)) uses.set(String(item[SK]), new Date(String(item.lastUsedAt)));
    return uses;
  }

  async forgetStore(keyStoreId: string): Promise<void> {
    const keys: Array<Record<string, unknown>> = [];
    for await (const item of this.itemsOf(keyStoreId)) keys.push({ [PK]: item[PK], [SK]: item[SK] });
    for (let start = 0; start < keys.length; start += BATCH_WRITE_LIMIT) {
      let requests = keys.slice(start, start + BATCH_WRITE_LIMIT).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt === MAX_BATCH_ATTEMPTS) throw new Error(`Could not remove the credential uses of key store ${keyStoreId}: DynamoDB left ${requests.length} unprocessed`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const result = await this.documents.send(new BatchWriteCommand({ RequestItems: { [this.props.tableName]: requests } }));
        requests = (result.UnprocessedItems?.[this.props.tableName] ?? []) as typeof requests;
      }
    }
  }

  private async *itemsOf(keyStoreId: string): AsyncGenerator<Record<string, unknown>> {
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
    for await (const page of pages) yield* page.Items ?? [];
  }
}
