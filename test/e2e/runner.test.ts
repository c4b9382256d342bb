/**
 * The local runner (bin/local.ts, what `npm start` runs) as a user meets it: endpoints.json,
 * authentication at the door, one runner per state folder, state that survives a restart.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CloudHSMV2Client, DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { LocalSecretStore } from '../../lambdas/local/adapters/local-secret-store';
import { GROUPS } from '../../lambdas/contract/env';
import { routeFor } from '../../lambdas/contract/routes';
import { secretNames } from '../../lambdas/core/secret-names';
import { type LocalSystem, spawnRunner, startLocalSystem } from '../helpers/local-system';

const STATE_TABLE = 'key-manager-state';
const handlerExists = (operation: string): boolean => existsSync(resolve(__dirname, '../..', routeFor(operation).handler));
const partitionsApiExists = handlerExists('ListHsmPartitions') && handlerExists('CreateHsmPartition');
const accountsApiExists = handlerExists('CreateAccountContainer') && handlerExists('ListAccountContainers');

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(dir, entry))
    .filter((path) => statSync(path).isFile() && readFileSync(path).includes(needle));
}

describe('local runner', () => {
  let stateDir: string;
  let system: LocalSystem;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'runner-e2e-'));
    system = await startLocalSystem({ stateDir });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const get = (path: string, token?: string): Promise<Response> =>
    fetch(`${system.apiUrl}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  it('writes endpoints.json (owner-only) with the API URL and an admin token', () => {
    // Assert
    expect(system.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(system.adminToken.split('.')).toHaveLength(3);
    expect(statSync(join(stateDir, 'endpoints.json')).mode & 0o077).toBe(0);
    expect(system.xksUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(system.xksCaCert, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('answers 401 in the CCKM error shape without a token and with a forged one', async () => {
    // Act
    const missing = await get('/v1/cckm/aws/kms');
    const forged = await get('/v1/cckm/aws/kms', `${system.adminToken.slice(0, -4)}AAAA`);

    // Assert
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ code: 401, codeDesc: expect.stringMatching(/^NCERRUnauthorizedAccess/) });
    expect(forged.status).toBe(401);
  });

  it('lets the admin token through the door', async () => {
    const response = await get('/v1/cckm/aws/kms', system.adminToken);
    expect(response.status).not.toBe(401);
    expect(response.status).toBe(handlerExists('ListAccountContainers') ? 200 : 501);
  });

  it('answers 404 for an unknown path', async () => {
    const response = await get('/v1/cckm/nothing-here', system.adminToken);
    expect(response.status).toBe(404);
  });

  it('refuses a second runner on the same state folder, naming the running one', async () => {
    // Act
    const second = spawnRunner(['--port', '0', '--xks-port', '0', '--aws-port', '0', '--state-dir', stateDir]);
    const code = await second.exited;

    // Assert
    expect(code).toBe(1);
    expect(second.output()).toContain(`already running (pid ${system.pid})`);
    expect((await get('/v1/cckm/aws/kms')).status).toBe(401); // the first one still serves
  });

  it('serves the XKS proxy over HTTPS with a certificate the CA file verifies', async () => {
    // Act: /ping is the load balancers' health check (no signature needed)
    const status = await new Promise<number | undefined>((resolveStatus, reject) => {
      const req = request(`${system.xksUrl}/ping`, { ca: readFileSync(system.xksCaCert) }, (res) => {
        res.resume();
        resolveStatus(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });

    // Assert
    expect(status).toBe(200);
  });

  (partitionsApiExists ? it : it.skip)('registers the SoftHSM2 token as partition local-softhsm, its PIN only in the secret store', async () => {
    // Act
    const response = await get('/v1/cckm/hsm/partitions', system.adminToken);

    // Assert: registered through the API
    expect(response.status).toBe(200);
    const { resources } = (await response.json()) as { resources: Array<{ id: string; name: string; hsm_type: string }> };
    const partition = resources.find((p) => p.name === 'local-softhsm');
    expect(partition).toMatchObject({ hsm_type: 'softhsm' });

    // Assert: the PIN in the secret store opens the token
    const pin = await new LocalSecretStore({ stateDir }).get(secretNames.hsmPin(partition?.id ?? ''));
    expect(pin).toMatch(/^[0-9a-f]{32}$/);
    if (handlerExists('TestHsmPartition')) {
      const test = await fetch(`${system.apiUrl}/v1/cckm/hsm/partitions/${partition?.id}/test`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${system.adminToken}` },
      });
      expect(test.status).toBe(200);
      expect(JSON.stringify(await test.json())).not.toMatch(/CKR_PIN_INCORRECT/);
    }

    // Assert: nowhere else in plaintext: not in a state file, not in DynamoDB, not in the output
    expect(filesContaining(stateDir, pin ?? '')).toEqual([]);
    const client = new DynamoDBClient({ endpoint: system.dynamoDbEndpoint });
    const items = await client.send(new ScanCommand({ TableName: STATE_TABLE }));
    client.destroy();
    expect(JSON.stringify(items.Items)).not.toContain(pin);
    expect(system.output()).not.toContain(pin);
  });

  it('holds a local CloudHSM cluster: endpoints.json names it, DescribeClusters shows it ACTIVE with HSMs in two zones', async () => {
    // Arrange
    const { clusterId, trustAnchorCertificatePath, kmsuserPassword } = system.cloudHsm;
    const cloudHsm = new CloudHSMV2Client({ endpoint: system.aws.endpointUrl, region: system.aws.region, credentials: system.aws });
    // Act
    const { Clusters } = await cloudHsm.send(new DescribeClustersCommand({ Filters: { clusterIds: [clusterId] } }));
    cloudHsm.destroy();
    // Assert
    expect(Clusters).toHaveLength(1);
    expect(Clusters![0].State).toBe('ACTIVE');
    expect(new Set(Clusters![0].Hsms!.filter((hsm) => hsm.State === 'ACTIVE').map((hsm) => hsm.AvailabilityZone)).size).toBe(2);
    expect(trustAnchorCertificatePath.startsWith(stateDir)).toBe(true);
    expect(readFileSync(trustAnchorCertificatePath, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(kmsuserPassword.length).toBeGreaterThanOrEqual(7);
    expect(kmsuserPassword.length).toBeLessThanOrEqual(32);
  });

  it('keeps state (items, account containers), signing key and partition across a restart; removes lock and endpoints on stop', async () => {
    // Arrange: state written before the restart
    const marker = `restart-marker-${Date.now()}`;
    const before = new DynamoDBClient({ endpoint: system.dynamoDbEndpoint });
    await before.send(new PutItemCommand({ TableName: STATE_TABLE, Item: { pk: { S: marker }, sk: { S: 'entity' } } }));
    before.destroy();
    const oldToken = system.adminToken;
    const oldDynamoDb = system.dynamoDbEndpoint;
    const oldCloudHsm = system.cloudHsm;
    const accountName = `restart-account-${Date.now()}`;
    if (accountsApiExists) {
      const created = await fetch(`${system.apiUrl}/v1/cckm/aws/kms`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${system.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: accountName, account_id: '123456789012', regions: ['us-east-1'] }),
      });
      expect(created.status).toBe(201);
    }

    // Act: stop, leave a stale lock behind as a crashed runner would, start again
    await system.stop();
    const cleanedUp = !existsSync(join(stateDir, 'runner.lock')) && !existsSync(join(stateDir, 'endpoints.json'));
    const dynamoDbGone = await fetch(oldDynamoDb, { method: 'POST' }).then(() => false, () => true);
    writeFileSync(join(stateDir, 'runner.lock'), '999999999\n');
    // This start writes the runner's output to a file, as bench:xks has it (outputToFile).
    system = await startLocalSystem({ stateDir, outputToFile: true });

    // Assert
    expect(cleanedUp).toBe(true);
    expect(dynamoDbGone).toBe(true);
    const after = new DynamoDBClient({ endpoint: system.dynamoDbEndpoint });
    const item = await after.send(new GetItemCommand({ TableName: STATE_TABLE, Key: { pk: { S: marker }, sk: { S: 'entity' } } }));
    after.destroy();
    expect(item.Item).toBeDefined();
    expect((await get('/v1/cckm/aws/kms', oldToken)).status).not.toBe(401);
    expect(system.cloudHsm).toEqual(oldCloudHsm);
    if (accountsApiExists) {
      const listed = (await (await get('/v1/cckm/aws/kms', system.adminToken)).json()) as { resources: Array<{ name: string }> };
      expect(listed.resources.map((a) => a.name)).toContain(accountName);
    }
    if (partitionsApiExists) {
      expect(system.output()).toMatch(/HSM partition local-softhsm found/);
      expect(readFileSync(join(stateDir, 'runner-output.log'), 'utf8')).toMatch(/HSM partition local-softhsm found/);
      const { resources } = (await (await get('/v1/cckm/hsm/partitions', system.adminToken)).json()) as { resources: Array<{ name: string }> };
      expect(resources.filter((p) => p.name === 'local-softhsm')).toHaveLength(1);
    }
  }, 120_000);

  it('accepts tokens it issues for other users, with their groups', async () => {
    const userToken = await system.issueToken('carol', [GROUPS.users]);
    expect((await get('/v1/cckm/aws/kms', userToken)).status).not.toBe(401);
  });
});
