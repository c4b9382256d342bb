/**
 * The environment jest's globalSetup gives every suite: a shared DynamoDB Local, a SoftHSM2
 * token folder of its own, and dummy AWS credentials so nothing reaches for real ones.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ENV } from '../../lambdas/contract/env';
import { createTestToken, tokenDirectory } from '../helpers/softhsm';

describe('test environment from globalSetup', () => {
  it('points DYNAMODB_ENDPOINT at a DynamoDB Local that stores and returns items', async () => {
    // Arrange
    const endpoint = process.env[ENV.dynamoDbEndpoint];
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new DynamoDBClient({ endpoint });
    const TableName = `env-check-${process.pid}-${Date.now()}`;
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );

    // Act
    await client.send(new PutItemCommand({ TableName, Item: { pk: { S: 'a' }, value: { S: 'stored' } } }));
    const read = await client.send(new GetItemCommand({ TableName, Key: { pk: { S: 'a' } } }));

    // Assert
    expect(read.Item?.value).toEqual({ S: 'stored' });
    await client.send(new DeleteTableCommand({ TableName }));
    client.destroy();
  });

  it('gives the SDK dummy credentials and a region, never real ones', () => {
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('local');
    expect(process.env.AWS_SECRET_ACCESS_KEY).toBe('local');
    expect(process.env.AWS_REGION).toBeTruthy();
    expect(process.env.AWS_PROFILE).toBeUndefined();
    expect(process.env.AWS_EC2_METADATA_DISABLED).toBe('true');
  });

  it('points SOFTHSM2_CONF at a temp token folder where suites can create tokens', async () => {
    // Arrange
    const conf = process.env.SOFTHSM2_CONF ?? '';
    expect(conf.startsWith(tmpdir())).toBe(true);
    const tokenDir = /directories\.tokendir\s*=\s*(.+)/.exec(readFileSync(conf, 'utf8'))?.[1].trim() ?? '';

    // Act
    const token = await createTestToken({ prefix: 'env' });

    // Assert
    expect(tokenDirectory(token.partition.tokenLabel).startsWith(tokenDir)).toBe(true);
  });
});
