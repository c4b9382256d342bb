/**
 * DynamoDB throttling and service errors through the state store and the API handler: a 503 with
 * Retry-After and a CCKM body, and for writes whether the outcome is known (aws-sdk-client-mock:
 * DynamoDB Local never throttles).
 */
import { DynamoDBClient, InternalServerError, ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbStateStore } from '../../../lambdas/adapters/dynamodb/dynamodb-state-store';
import { ServiceUnavailableError } from '../../../lambdas/core/errors';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { apiEvent, lambdaContext, TestTokens } from '../../helpers/api-events';
import { rejectionOf } from '../../helpers/key-fixtures';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

const documents = mockClient(DynamoDBDocumentClient);
const meta = (attempts: number, httpStatusCode: number) => ({ $metadata: { attempts, httpStatusCode } });
const store = () => new DynamoDbStateStore({ client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 't' });
const op = { op: 'update', kind: 'keyStore', id: 's', data: {} } as const;

beforeEach(() => documents.reset());

describe('DynamoDbStateStore failures', () => {
  it('answers a throttled read with a 503 whose outcome is known', async () => {
    // Arrange
    documents.on(GetCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', ...meta(3, 400) }));

    // Act
    const error = await rejectionOf(store().get('keyStore', 's'));

    // Assert
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ statusCode: 503, outcomeUnknown: false, retryAfterSeconds: 2 });
  });

  it('marks a write that failed with a service error as outcome unknown', async () => {
    // Arrange
    documents.on(TransactWriteCommand).rejects(new InternalServerError({ message: 'oops', ...meta(3, 500) }));

    // Act
    const error = await rejectionOf(store().transact([op]));

    // Assert
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ outcomeUnknown: true });
  });

  it('answers a transaction cancelled by throttling on its only attempt as a 503 that applied nothing', async () => {
    // Arrange
    documents.on(TransactWriteCommand).rejects(new TransactionCanceledException({ message: 'cancelled', CancellationReasons: [{ Code: 'ThrottlingError' }], ...meta(1, 400) }));

    // Act
    const error = await rejectionOf(store().transact([op]));

    // Assert
    expect(error).toMatchObject({ statusCode: 503, outcomeUnknown: false });
  });

  it('leaves other SDK errors alone (a bug stays a 500)', async () => {
    // Arrange
    const bug = Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException', ...meta(1, 400) });
    documents.on(GetCommand).rejects(bug);

    // Act
    const error = await rejectionOf(store().get('keyStore', 's'));

    // Assert
    expect(error).toBe(bug);
  });
});

describe('a route on a throttled table', () => {
  const tokens = TestTokens.create();
  afterAll(() => setDependencies(undefined));

  it('answers 503 with Retry-After and a CCKM error body', async () => {
    // Arrange
    documents.on(GetCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', ...meta(3, 400) }));
    setDependencies(createDependencies(loadConfig({ KEY_MANAGER_MODE: 'local', STATE_TABLE_NAME: 't' }), { state: store(), tokens: tokens.verifier }));
    const { handler } = await import('../../../lambdas/handlers/get-key-store');

    // Act
    const response = await handler(apiEvent('GetKeyStore', { token: await tokens.admin(), params: { id: 'some-store' } }), lambdaContext());

    // Assert
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '2' });
    expect(JSON.parse(response.body)).toEqual({ code: 503, codeDesc: expect.stringMatching(/^NCERRServiceUnavailable: /), message: expect.stringContaining('throttled') });
  });
});
