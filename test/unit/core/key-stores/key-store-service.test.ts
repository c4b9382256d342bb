/**
 * KeyStoreService against the in-memory StateStore: the create response, every validation answer
 * (a 400 naming the field, and no state change), ACL answers, update, block and delete rules.
 * Concurrency and the DynamoDB item contents are covered in test/integration/keys.
 */
import { routeFor } from '../../../../lambdas/contract/routes';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../../lambdas/core/errors';
import { secretNames } from '../../../../lambdas/core/secret-names';
import { ACCESS_KEY_ID_PATTERN, SECRET_ACCESS_KEY_PATTERN } from '../../../../lambdas/core/key-stores/xks-credentials';
import {
  admin,
  attributes,
  clock,
  ids,
  HEALTH_CHECK_ATTRIBUTES,
  keyServices,
  type KeyServices,
  keyStoreSetup,
  rejectionOf,
  seedHsmKey,
  seedPartition,
  user,
} from '../../../helpers/key-fixtures';
import { MemoryStateStore } from '../../../helpers/memory-state-store';
import { MemorySecretStore } from '../../../helpers/softhsm';
import { MemoryHsmAgent } from '../../../helpers/memory-hsm-agent';
import { FakeAwsKms } from '../../../helpers/fake-aws-kms';
import { MemoryCredentialUsage } from '../../../helpers/memory-credential-usage';
import { KeyStoreService } from '../../../../lambdas/core/key-stores/key-store-service';

let state: MemoryStateStore;
let secrets: MemorySecretStore;
let services: KeyServices;
let setup: Awaited<ReturnType<typeof keyStoreSetup>>;

beforeEach(async () => {
  state = new MemoryStateStore();
  secrets = new MemorySecretStore();
  services = keyServices(state, secrets);
  setup = await keyStoreSetup(state, { acls: [{ user_id: 'alice', actions: ['keystoreadd', 'viewkeystore', 'keystoreblock'] }] });
});

/** Asserts a 400 naming `field`, with no write and no secret left behind. */
async function expectRefused(promise: Promise<unknown>, field: string, text?: string): Promise<void> {
  const writes = state.transactions.length;
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(ValidationError);
  expect(error.message).toContain(field);
  if (text) expect(error.message).toContain(text);
  expect(state.transactions.length).toBe(writes);
  expect(secrets.values.size).toBe(0);
}

describe('create', () => {
  it('answers with the seeds shape, the credential once and the proxy configuration file', async () => {
    // Act
    const created = await services.keyStores.create(admin('keystoreadd'), setup.request({ name: 'cks_name', enable_success_audit_event: true }));

    // Assert
    expect(created).toMatchObject({
      uri: `kylo:kylo:cckm:aws_cks:${created.id}`,
      name: 'cks_name',
      kms: setup.account.name,
      kms_id: setup.account.id,
      region: 'us-east-1',
      type: 'LOCAL',
      credential_version: 1,
      cloud_name: 'aws',
      enable_success_audit_event: true,
      aws_param: {
        custom_key_store_name: 'cks_name',
        custom_key_store_type: 'EXTERNAL_KEY_STORE',
        xks_proxy_uri_endpoint: 'https://xks.example.com',
        xks_proxy_connectivity: 'PUBLIC_ENDPOINT',
        xks_proxy_uri_path: `/api/v1/cckm/aws/xks-proxy-endpoints/${created.id}/kms/xks/v1`,
        connection_state: 'DISCONNECTED',
      },
      local_hosted_params: {
        blocked: false,
        mtls_enabled: false,
        partition_id: setup.partition.id,
        partition_label: setup.partition.tokenLabel,
        source_container_id: setup.partition.id,
        source_container_type: 'hsm-softhsm',
        source_key_tier: 'hsm-softhsm',
        health_check_key_id: setup.healthCheckKey.id,
        max_credentials: 3,
        linked_state: false,
        policy: { reserved: false },
      },
    });
    expect(created.access_key_id).toMatch(ACCESS_KEY_ID_PATTERN);
    expect(created.secret_access_key).toMatch(SECRET_ACCESS_KEY_PATTERN);
    expect(created.xks_proxy_configuration).toEqual({
      XksProxyUriPath: created.aws_param.xks_proxy_uri_path,
      XksProxyAuthenticationCredential: { AccessKeyId: created.access_key_id, RawSecretAccessKey: created.secret_access_key },
    });
  });

  it('keeps the secret in the SecretStore only, and takes the account and health-check key references', async () => {
    const created = await services.keyStores.create(admin('keystoreadd'), setup.request());

    const stored = await state.get<{ credentials: { id: string }[] }>('keyStore', created.id);
    expect(JSON.stringify(stored)).not.toContain(created.secret_access_key);
    expect(await secrets.get(secretNames.xksCredential(created.id, stored!.data.credentials[0].id))).toBe(created.secret_access_key);
    expect((await state.get('account', setup.account.id))!.counters).toEqual({ keyStores: 1, 'keyStores@us-east-1': 1 });
    expect((await state.get('hsmKey', setup.healthCheckKey.id))!.counters).toMatchObject({ references: 1 });
    const got = await services.keyStores.get(admin('viewkeystore'), created.id);
    expect(JSON.stringify(got)).not.toContain(created.secret_access_key);
  });

  it('defaults: PUBLIC_ENDPOINT, 20 credentials, unblocked, no mTLS, no success audit, the partition tier', async () => {
    const request = setup.request();
    const created = await services.keyStores.create(admin(), {
      ...request,
      local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: setup.healthCheckKey.id },
      aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com' },
    });
    expect(created.aws_param.xks_proxy_connectivity).toBe('PUBLIC_ENDPOINT');
    expect(created.local_hosted_params).toMatchObject({ max_credentials: 20, blocked: false, mtls_enabled: false, source_key_tier: 'hsm-softhsm' });
    expect(created.enable_success_audit_event).toBe(false);
  });

  it('takes the account container by id as well as by name, and VPC connectivity with its service name', async () => {
    const created = await services.keyStores.create(
      admin(),
      setup.request({
        kms: setup.account.id,
        aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'VPC_ENDPOINT_SERVICE', xks_proxy_vpc_endpoint_service_name: 'com.amazonaws.vpce.us-east-1.vpce-svc-03d5ed' },
      }),
    );
    expect(created.kms).toBe(setup.account.name);
    expect(created.aws_param.xks_proxy_vpc_endpoint_service_name).toBe('com.amazonaws.vpce.us-east-1.vpce-svc-03d5ed');
  });

  it('names luna partitions hsm-luna and cloudhsm partitions hsm-cloudhsm', async () => {
    for (const [hsmType, tier] of [['luna', 'hsm-luna'], ['cloudhsm', 'hsm-cloudhsm']] as const) {
      const partition = await seedPartition(state, { hsmType });
      const key = await seedHsmKey(state, partition.id);
      const created = await services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: partition.id, health_check_key_id: key.id, source_key_tier: tier === 'hsm-luna' ? 'luna-hsm' : tier } }));
      expect(created.local_hosted_params.source_key_tier).toBe(tier);
    }
  });

  describe('refuses with a 400 naming the field and changes nothing', () => {
    it('an unknown account container', () => expectRefused(services.keyStores.create(admin(), setup.request({ kms: 'nope' })), 'kms'));
    it('a region the container does not have', () => expectRefused(services.keyStores.create(admin(), setup.request({ region: 'ap-south-1' })), 'region', 'us-east-1, eu-west-1'));
    it('an unknown partition', () =>
      expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: 'ghost', health_check_key_id: setup.healthCheckKey.id } })), 'local_hosted_params.partition_id'));
    it('an unknown health-check key', () =>
      expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: 'ghost' } })), 'local_hosted_params.health_check_key_id'));
    it('a missing partition id or health-check key id', async () => {
      await expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { health_check_key_id: setup.healthCheckKey.id } })), 'local_hosted_params.partition_id');
      await expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id } })), 'local_hosted_params.health_check_key_id');
    });
    it('a health-check key lacking CKA_UNWRAP', async () => {
      const key = await seedHsmKey(state, setup.partition.id, { attributes: attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_SENSITIVE') });
      await expectRefused(
        services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: key.id } })),
        'local_hosted_params.health_check_key_id',
        'CKA_UNWRAP=true',
      );
    });
    it('an extractable or AES-128 health-check key', async () => {
      const extractable = await seedHsmKey(state, setup.partition.id, { attributes: { ...HEALTH_CHECK_ATTRIBUTES, CKA_EXTRACTABLE: true } });
      await expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: extractable.id } })), 'health_check_key_id', 'CKA_EXTRACTABLE=false');
      const small = await seedHsmKey(state, setup.partition.id, { sizeBits: 128 });
      await expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: small.id } })), 'health_check_key_id', 'AES-256');
    });
    it('a health-check key from another partition', async () => {
      const other = await seedPartition(state);
      const key = await seedHsmKey(state, other.id);
      await expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: key.id } })), 'health_check_key_id', 'not in');
    });
    it('a source key tier that is not the partition\'s, or not ours', async () => {
      await expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: setup.healthCheckKey.id, source_key_tier: 'hsm-luna' } })), 'local_hosted_params.source_key_tier', 'softhsm');
      await expectRefused(services.keyStores.create(admin(), setup.request({ local_hosted_params: { partition_id: setup.partition.id, health_check_key_id: setup.healthCheckKey.id, source_key_tier: 'local' } })), 'local_hosted_params.source_key_tier');
    });
    it('VPC_ENDPOINT_SERVICE without a service name', () =>
      expectRefused(services.keyStores.create(admin(), setup.request({ aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'VPC_ENDPOINT_SERVICE' } })), 'aws_param.xks_proxy_vpc_endpoint_service_name'));
    it('an endpoint that is not https://<fqdn>, or none', async () => {
      await expectRefused(services.keyStores.create(admin(), setup.request({ aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com/x' } })), 'aws_param.xks_proxy_uri_endpoint');
      await expectRefused(services.keyStores.create(admin(), setup.request({ aws_param: {} })), 'aws_param.xks_proxy_uri_endpoint', 'required');
    });
    it('a URI path (the manager assigns it)', () =>
      expectRefused(services.keyStores.create(admin(), setup.request({ aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_uri_path: '/x/kms/xks/v1' } })), 'aws_param.xks_proxy_uri_path'));
    it('another store type, and CloudHSM fields on an external store (CloudHSM stores are the CloudHSM service\'s)', async () => {
      // The route schema refuses another store type first (an enum); called directly, the service refuses it too.
      await expectRefused(services.keyStores.create(admin(), setup.request({ aws_param: { custom_key_store_type: 'OTHER' as 'EXTERNAL_KEY_STORE', xks_proxy_uri_endpoint: 'https://xks.example.com' } })), 'aws_param.custom_key_store_type', 'AWS_CLOUDHSM');
      await expectRefused(services.keyStores.create(admin(), setup.request({ aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', key_store_password: 'x' } })), 'aws_param.key_store_password', 'only applies to AWS_CLOUDHSM');
    });
  });

  it('refuses a taken name with 409 and removes the new secret', async () => {
    await services.keyStores.create(admin(), setup.request({ name: 'taken' }));
    const before = secrets.values.size;

    const error = await rejectionOf(services.keyStores.create(admin(), setup.request({ name: 'taken' })));

    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain('taken');
    expect(secrets.values.size).toBe(before);
  });

  it('lets a user with keystoreadd create, and answers 403 to one without it or for an unknown container', async () => {
    await expect(services.keyStores.create(user('alice', 'keystoreadd'), setup.request())).resolves.toHaveProperty('id');
    expect(await rejectionOf(services.keyStores.create(user('bob', 'keystoreadd'), setup.request()))).toBeInstanceOf(ForbiddenError);
    expect(await rejectionOf(services.keyStores.create(user('alice', 'keystoreadd'), setup.request({ kms: 'nope' })))).toBeInstanceOf(ForbiddenError);
  });
});

describe('list and get', () => {
  it('filters, sorts and pages, and shows users only the stores of containers where they may view', async () => {
    // Arrange: two stores in alice's container, one in a container she has no ACL on.
    await services.keyStores.create(admin(), setup.request({ name: 'b-store' }));
    await services.keyStores.create(admin(), setup.request({ name: 'a-store', region: 'eu-west-1' }));
    const other = await keyStoreSetup(state);
    await services.keyStores.create(admin(), other.request({ name: 'c-store' }));

    // Act / Assert
    const all = await services.keyStores.list(admin('viewkeystore'), { sort: 'name' });
    expect(all).toMatchObject({ skip: 0, limit: 10, total: 3 });
    expect(all.resources.map((r) => r.name)).toEqual(['a-store', 'b-store', 'c-store']);
    expect((await services.keyStores.list(admin('viewkeystore'), { region: 'eu-west-1' })).resources.map((r) => r.name)).toEqual(['a-store']);
    expect((await services.keyStores.list(admin('viewkeystore'), { kms: setup.account.name, sort: '-name', limit: '1', skip: '1' })).resources.map((r) => r.name)).toEqual(['a-store']);
    expect((await services.keyStores.list(admin('viewkeystore'), { blocked: 'true' })).total).toBe(0);
    expect((await services.keyStores.list(user('alice', 'viewkeystore'), {})).resources.map((r) => r.name).sort()).toEqual(['a-store', 'b-store']);
    expect((await services.keyStores.list(user('bob', 'viewkeystore'), {})).total).toBe(0);
  });

  it("filters by the values the seeds use: both spellings of Luna's tier, CLOUD_HSM, and the type responses show", async () => {
    // Arrange: a store on a Luna partition and one on SoftHSM2.
    const luna = await keyStoreSetup(state, { hsmType: 'luna' });
    await services.keyStores.create(admin(), luna.request({ name: 'on-luna' }));
    await services.keyStores.create(admin(), setup.request({ name: 'on-softhsm' }));
    const names = async (query: Record<string, string>): Promise<string[]> =>
      (await services.keyStores.list(admin('viewkeystore'), { ...query, sort: 'name' })).resources.map((r) => r.name);

    // Act / Assert
    expect(await names({ source_key_tier: 'hsm-luna' })).toEqual(['on-luna']);
    expect(await names({ source_key_tier: 'luna-hsm' })).toEqual(['on-luna']);
    expect(await names({ source_key_tier: 'hsm-softhsm' })).toEqual(['on-softhsm']);
    expect(await names({ custom_key_store_type: 'EXTERNAL_KEY_STORE' })).toEqual(['on-luna', 'on-softhsm']);
    expect(await names({ custom_key_store_type: 'CLOUD_HSM' })).toEqual([]);
    expect(await names({ type: 'LOCAL' })).toEqual(['on-luna', 'on-softhsm']);
    expect(await names({ type: 'REMOTE' })).toEqual([]);
  });

  it('shows the envelope of the seeds, labels and the health check URI path the route table serves', async () => {
    const created = await services.keyStores.create(admin(), setup.request());
    const health = routeFor('GetKeyStoreHealth').path.replace('{id}', created.id);

    expect(created).toMatchObject({
      application: 'ncryptify:gemalto:admin:apps:kylo',
      devAccount: 'ncryptify:gemalto:admin:accounts:gemalto',
      labels: {},
      local_hosted_params: { health_check_uri_path: `/api${health}` },
    });
  });

  it('answers 404 to admins and 403 to users for an unknown store, 403 for a store they may not view', async () => {
    const other = await keyStoreSetup(state);
    const hidden = await services.keyStores.create(admin(), other.request());
    expect(await rejectionOf(services.keyStores.get(admin('viewkeystore'), 'ghost'))).toBeInstanceOf(NotFoundError);
    expect(await rejectionOf(services.keyStores.get(user('alice', 'viewkeystore'), 'ghost'))).toBeInstanceOf(ForbiddenError);
    expect(await rejectionOf(services.keyStores.get(user('alice', 'viewkeystore'), hidden.id))).toBeInstanceOf(ForbiddenError);
  });

  it('refuses bad list parameters with a 400 naming them', async () => {
    expect((await rejectionOf(services.keyStores.list(admin(), { sort: 'colour' }))).message).toContain('sort');
    expect((await rejectionOf(services.keyStores.list(admin(), { blocked: 'maybe' }))).message).toContain('blocked');
  });
});

describe('mtls_enabled without a trust store', () => {
  it('is refused with a 400 naming it on create and PATCH, and nothing changes', async () => {
    const keyStores = new KeyStoreService({ state, secrets, clock, ids, awsKms: new FakeAwsKms(), credentialUsage: new MemoryCredentialUsage(), hsmAgent: new MemoryHsmAgent() });
    const existing = await keyStores.create(admin(), setup.request());
    const before = await state.list('keyStore');

    const created = await rejectionOf(keyStores.create(admin(), setup.request({ local_hosted_params: { ...setup.request().local_hosted_params, mtls_enabled: true } })));
    const updated = await rejectionOf(keyStores.update(admin('keystoreupdate'), existing.id, { local_hosted_params: { mtls_enabled: true } }));

    for (const error of [created, updated]) expect(error).toMatchObject({ statusCode: 400, field: 'local_hosted_params.mtls_enabled' });
    expect(await state.list('keyStore')).toEqual(before);
    await expect(keyStores.update(admin('keystoreupdate'), existing.id, { local_hosted_params: { mtls_enabled: false } })).resolves.toMatchObject({ local_hosted_params: { mtls_enabled: false } });
  });
});

describe('the mTLS client certificate subject', () => {
  it('is AWS KMS\'s for the store\'s region unless set; a set one must be a DNS name (400 naming the field, nothing changed)', async () => {
    const plain = await services.keyStores.create(admin(), setup.request({ region: 'us-east-1' }));
    const custom = await services.keyStores.create(admin(), setup.request({ local_hosted_params: { ...setup.request().local_hosted_params, mtls_enabled: true, mtls_client_subject_cn: 'xks-client.example.com' } }));
    const bad = await rejectionOf(services.keyStores.create(admin(), setup.request({ local_hosted_params: { ...setup.request().local_hosted_params, mtls_client_subject_cn: 'not a name!' } })));
    const badUpdate = await rejectionOf(services.keyStores.update(admin('keystoreupdate'), custom.id, { local_hosted_params: { mtls_client_subject_cn: 'https://x.example.com' } }));
    const changed = await services.keyStores.update(admin('keystoreupdate'), plain.id, { local_hosted_params: { mtls_client_subject_cn: 'other.example.com' } });

    expect(plain.local_hosted_params.mtls_client_subject_cn).toBe('cks.kms.us-east-1.amazonaws.com');
    expect(custom.local_hosted_params.mtls_client_subject_cn).toBe('xks-client.example.com');
    expect(bad).toMatchObject({ statusCode: 400, field: 'local_hosted_params.mtls_client_subject_cn' });
    expect(badUpdate).toMatchObject({ statusCode: 400, field: 'local_hosted_params.mtls_client_subject_cn' });
    expect((await services.keyStores.get(admin('viewkeystore'), custom.id)).local_hosted_params.mtls_client_subject_cn).toBe('xks-client.example.com');
    expect(changed.local_hosted_params.mtls_client_subject_cn).toBe('other.example.com');
  });
});

describe('update', () => {
  it('renames, moves the endpoint and connectivity, and moves the health-check key reference', async () => {
    // Arrange
    const created = await services.keyStores.create(admin(), setup.request({ name: 'old-name' }));
    const newKey = await seedHsmKey(state, setup.partition.id);

    // Act
    const updated = await services.keyStores.update(admin('keystoreupdate'), created.id, {
      name: 'new-name',
      aws_param: { xks_proxy_uri_endpoint: 'https://xks2.example.com', xks_proxy_connectivity: 'VPC_ENDPOINT_SERVICE', xks_proxy_vpc_endpoint_service_name: 'com.amazonaws.vpce.us-east-1.vpce-svc-0abc' },
      local_hosted_params: { health_check_key_id: newKey.id, mtls_enabled: true, max_credentials: 5 },
      enable_success_audit_event: true,
    });

    // Assert
    expect(updated).toMatchObject({
      name: 'new-name',
      enable_success_audit_event: true,
      aws_param: { custom_key_store_name: 'new-name', xks_proxy_uri_endpoint: 'https://xks2.example.com', xks_proxy_connectivity: 'VPC_ENDPOINT_SERVICE' },
      local_hosted_params: { health_check_key_id: newKey.id, mtls_enabled: true, max_credentials: 5 },
    });
    expect((await state.get('hsmKey', setup.healthCheckKey.id))!.counters.references).toBe(0);
    expect((await state.get('hsmKey', newKey.id))!.counters.references).toBe(1);
    // The old name is free again; the new one is taken.
    await expect(services.keyStores.create(admin(), setup.request({ name: 'old-name' }))).resolves.toHaveProperty('id');
    expect(await rejectionOf(services.keyStores.create(admin(), setup.request({ name: 'new-name' })))).toBeInstanceOf(ConflictError);
  });

  it('drops the VPC service name when going public', async () => {
    const created = await services.keyStores.create(
      admin(),
      setup.request({ aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'VPC_ENDPOINT_SERVICE', xks_proxy_vpc_endpoint_service_name: 'com.amazonaws.vpce.us-east-1.vpce-svc-0abc' } }),
    );
    const updated = await services.keyStores.update(admin(), created.id, { aws_param: { xks_proxy_connectivity: 'PUBLIC_ENDPOINT' } });
    expect(updated.aws_param.xks_proxy_connectivity).toBe('PUBLIC_ENDPOINT');
    expect(updated.aws_param).not.toHaveProperty('xks_proxy_vpc_endpoint_service_name');
  });

  it('refuses a taken name (409), a changed URI path, credentials, a bad health-check key and max_credentials below the count', async () => {
    const created = await services.keyStores.create(admin(), setup.request({ name: 'one' }));
    await services.keyStores.create(admin(), setup.request({ name: 'two' }));
    const weak = await seedHsmKey(state, setup.partition.id, { attributes: attributes('CKA_ENCRYPT', 'CKA_DECRYPT') });
    await services.credentials.create(admin(), created.id);
    await services.credentials.create(admin(), created.id);

    const taken = await rejectionOf(services.keyStores.update(admin(), created.id, { name: 'two' }));
    expect(taken).toBeInstanceOf(ConflictError);
    expect(taken.message).toContain('"two" already exists');
    await expectRefusedUpdate(services.keyStores.update(admin(), created.id, { aws_param: { xks_proxy_uri_path: '/other/kms/xks/v1' } }), 'aws_param.xks_proxy_uri_path');
    await expectRefusedUpdate(services.keyStores.update(admin(), created.id, { aws_param: { access_key_id: 'AKID' } }), 'aws_param.access_key_id');
    await expectRefusedUpdate(services.keyStores.update(admin(), created.id, { local_hosted_params: { health_check_key_id: weak.id } }), 'CKA_WRAP=true');
    const lowered = await rejectionOf(services.keyStores.update(admin(), created.id, { local_hosted_params: { max_credentials: 2 } }));
    expect(lowered).toBeInstanceOf(ConflictError);
    expect(lowered.message).toContain('has 3 credentials');
    // Same path is fine (the seeds' PATCH example sends it).
    await expect(services.keyStores.update(admin(), created.id, { aws_param: { xks_proxy_uri_path: created.aws_param.xks_proxy_uri_path } })).resolves.toHaveProperty('name', 'one');
  });

  async function expectRefusedUpdate(promise: Promise<unknown>, text: string): Promise<void> {
    const error = await rejectionOf(promise);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain(text);
  }
});

describe('block, unblock, delete', () => {
  it('blocks and unblocks (idempotently)', async () => {
    const created = await services.keyStores.create(admin(), setup.request());
    expect((await services.keyStores.block(user('alice', 'keystoreblock'), created.id)).local_hosted_params.blocked).toBe(true);
    expect((await services.keyStores.block(admin(), created.id)).local_hosted_params.blocked).toBe(true);
    expect(await rejectionOf(services.keyStores.unblock(user('alice', 'keystoreunblock'), created.id))).toBeInstanceOf(ForbiddenError);
    expect((await services.keyStores.unblock(admin(), created.id)).local_hosted_params.blocked).toBe(false);
  });

  it('deletes the store, its credentials\' secrets and its references, and frees the name', async () => {
    const created = await services.keyStores.create(admin(), setup.request({ name: 'gone' }));
    await services.credentials.rotate(admin(), created.id);

    await services.keyStores.delete(admin('keystoredelete'), created.id);

    expect(await state.get('keyStore', created.id)).toBeUndefined();
    expect(secrets.values.size).toBe(0);
    expect((await state.get('account', setup.account.id))!.counters).toEqual({ keyStores: 0, 'keyStores@us-east-1': 0 });
    expect((await state.get('hsmKey', setup.healthCheckKey.id))!.counters.references).toBe(0);
    await expect(services.keyStores.create(admin(), setup.request({ name: 'gone' }))).resolves.toHaveProperty('name', 'gone');
  });

  it('refuses to delete a store that has HYOK keys (409), and deletes it once they are gone', async () => {
    const created = await services.keyStores.create(admin(), setup.request());
    const sourceKey = await seedHsmKey(state, setup.partition.id);
    const hyok = await services.hyokKeys.create(admin('hyokkeycreate'), { local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: created.id } });

    const refused = await rejectionOf(services.keyStores.delete(admin(), created.id));
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toContain('HYOK');
    expect(await state.get('keyStore', created.id)).toBeDefined();

    await services.awsKeys.delete(admin(), hyok.id);
    await services.keyStores.delete(admin(), created.id);
    expect(await state.get('keyStore', created.id)).toBeUndefined();
  });
});
