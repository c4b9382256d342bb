/**
 * The composition root of the management API: builds the adapters and services once per container
 * (get-a-room's setupDependencies), choosing AWS or local adapters by `config.mode`. Each member is
 * built on first use, so a function only constructs (and only needs the settings of) what its
 * operation touches, and in aws mode nothing loads the PKCS#11 adapter (pkcs11js): the HSM agent
 * there is a Lambda invoke. (esbuild still bundles every adapter required below into each function,
 * the local ones included; pkcs11js itself stays external.)
 *
 * Handlers get the container's dependencies through `dependencies()`, built from the environment:
 * the local runner (bin/local.ts) sets it to local mode. Tests may pass ready-made ports
 * (`overrides`) and install the result with `setDependencies`.
 *
 * Adding a service: one getter below, `this.once('name', () => new XService(this))`, and one line
 * in the `Dependencies` interface.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../contract/env';
import type { AwsAccountAccess } from '../core/ports/aws-account-access';
import type { AwsKms } from '../core/ports/aws-kms';
import type { AwsKmsKeys } from '../core/ports/aws-kms-keys';
import type { HsmAgent } from '../core/ports/hsm';
import type { IdGenerator } from '../core/ports/id-generator';
import type { Clock } from '../core/ports/clock';
import type { TokenVerifier } from '../core/ports/token-verifier';
import type { SecretStore } from '../core/ports/secret-store';
import type { StateStore } from '../core/ports/state-store';
import type { CredentialUsage } from '../core/ports/credential-usage';
import { AccountContainerService } from '../core/accounts/account-container-service';
import { AwsAccountService } from '../core/accounts/aws-account-service';
import { HsmKeyService } from '../core/hsm/hsm-key-service';
import { HsmPartitionService } from '../core/hsm/hsm-partition-service';
import { AwsKeyService } from '../core/keys/aws-key-service';
import { HyokKeyService } from '../core/keys/hyok-key-service';
import { KeyStoreCredentialService } from '../core/key-stores/key-store-credential-service';
import { KeyStoreHealthService } from '../core/key-stores/key-store-health-service';
import { KeyStoreService } from '../core/key-stores/key-store-service';
import { VirtualKeyService } from '../core/keys/virtual-key-service';
import { DynamoDbStateStore } from '../adapters/dynamodb/dynamodb-state-store';
import { DynamoDbCredentialUsage } from '../adapters/dynamodb/dynamodb-credential-usage';
import { StateStoreXksStateSource } from '../core/state-store-xks-state-source';
import { loadConfig, requireSetting, type RuntimeConfig } from './config';

export interface Dependencies {
  readonly config: RuntimeConfig;
  readonly state: StateStore;
  /** When each XKS credential last authenticated a request (in the state table). */
  readonly credentialUsage: CredentialUsage;
  readonly secrets: SecretStore;
  readonly hsmAgent: HsmAgent;
  readonly tokens: TokenVerifier;
  /** STS on AWS; locally a stand-in that answers that there is no AWS account. */
  readonly awsAccountAccess: AwsAccountAccess;
  /** What verifies account container roles: `awsAccountAccess` in aws mode, none in local mode. */
  readonly accountRoleVerifier?: AwsAccountAccess;
  /** AWS KMS of the account containers; locally the local AWS stand-in (the SDK's endpoint override, set by the local runner). */
  readonly awsKms: AwsKms;
  /** AWS KMS keys in the account containers' accounts; locally the local AWS stand-in (the SDK's endpoint override). */
  readonly awsKmsKeys: AwsKmsKeys;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly accountContainers: AccountContainerService;
  readonly awsAccounts: AwsAccountService;
  readonly hsmPartitions: HsmPartitionService;
  readonly hsmKeys: HsmKeyService;
  readonly keyStores: KeyStoreService;
  readonly keyStoreCredentials: KeyStoreCredentialService;
  /** One per container: its rate limit counts per instance. */
  readonly keyStoreHealth: KeyStoreHealthService;
  readonly virtualKeys: VirtualKeyService;
  readonly hyokKeys: HyokKeyService;
  readonly awsKeys: AwsKeyService;
}

/** The adapters a test or the local runner may supply instead of the ones `config` selects. */
export type Ports = Pick<Dependencies, 'state' | 'credentialUsage' | 'secrets' | 'hsmAgent' | 'tokens' | 'awsAccountAccess' | 'accountRoleVerifier' | 'awsKms' | 'awsKmsKeys' | 'clock' | 'ids'>;

export const systemClock: Clock = { now: () => new Date() };
export const uuidGenerator: IdGenerator = { newId: () => randomUUID() };

class RuntimeDependencies implements Dependencies {
  private readonly built = new Map<string, unknown>();

  constructor(
    readonly config: RuntimeConfig,
    private readonly overrides: Partial<Ports>,
  ) {}

  get state(): StateStore {
    return this.once('state', () => new DynamoDbStateStore({ client: this.dynamoDbClient, tableName: this.config.stateTableName }));
  }

  get credentialUsage(): CredentialUsage {
    return this.once('credentialUsage', () => new DynamoDbCredentialUsage({ client: this.dynamoDbClient, tableName: this.config.stateTableName }));
  }

  private get dynamoDbClient(): DynamoDBClient {
    return this.once('dynamoDbClient', () => new DynamoDBClient(this.config.dynamoDbEndpoint ? { endpoint: this.config.dynamoDbEndpoint } : {}));
  }

  get secrets(): SecretStore {
    return this.once('secrets', () => {
      if (this.config.mode === 'local') {
        const { LocalSecretStore } = require('../local/adapters/local-secret-store') as typeof import('../local/adapters/local-secret-store');
        return new LocalSecretStore({ stateDir: this.config.localStateDir });
      }
      const { SecretsManagerClient } = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
      const { SecretsManagerSecretStore } = require('../adapters/aws/secrets-manager-secret-store') as typeof import('../adapters/aws/secrets-manager-secret-store');
      return new SecretsManagerSecretStore({
        client: new SecretsManagerClient({}),
        allowedPrincipalArnPattern: this.config.secretsAllowedPrincipalArnPattern,
        namePrefix: this.config.secretNamePrefix,
        kmsKeyId: this.config.secretsKmsKeyId,
      });
    });
  }

  get hsmAgent(): HsmAgent {
    return this.once('hsmAgent', () => {
      if (this.config.mode === 'local') {
        // In-process agent over PKCS#11 (the same service the agent Lambda runs), with the agent's time budget.
        const { Pkcs11HsmAgent } = require('../adapters/pkcs11/hsm-agent') as typeof import('../adapters/pkcs11/hsm-agent');
        const { AGENT_CALL_TIMEOUT_MS, pkcs11Config } = require('../adapters/pkcs11/config') as typeof import('../adapters/pkcs11/config');
        return new Pkcs11HsmAgent(pkcs11Config({ libraries: this.config.pkcs11Libraries, callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), this.secrets);
      }
      const { LambdaHsmAgent } = require('../adapters/aws/lambda-hsm-agent') as typeof import('../adapters/aws/lambda-hsm-agent');
      return new LambdaHsmAgent({ functionName: requireSetting(this.config.hsmAgentFunctionName, ENV.hsmAgentFunctionName) });
    });
  }

  get tokens(): TokenVerifier {
    return this.once('tokens', () => {
      if (this.config.mode === 'local') {
        const { LocalTokenVerifier } = require('../local/adapters/local-tokens') as typeof import('../local/adapters/local-tokens');
        return LocalTokenVerifier.fromStateDir(this.config.localStateDir);
      }
      const { CognitoTokenVerifier } = require('../adapters/aws/cognito-token-verifier') as typeof import('../adapters/aws/cognito-token-verifier');
      return CognitoTokenVerifier.create({
        userPoolId: requireSetting(this.config.userPoolId, ENV.userPoolId),
        clientId: requireSetting(this.config.userPoolClientId, ENV.userPoolClientId),
      });
    });
  }

  get awsAccountAccess(): AwsAccountAccess {
    return this.once('awsAccountAccess', () => {
      if (this.config.mode === 'local') {
        const { LocalAwsAccountAccess } = require('../local/adapters/local-aws-account-access') as typeof import('../local/adapters/local-aws-account-access');
        return new LocalAwsAccountAccess();
      }
      const { STSClient } = require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
      const { StsAccountAccess } = require('../adapters/aws/sts-account-access') as typeof import('../adapters/aws/sts-account-access');
      return new StsAccountAccess({ client: new STSClient({}) });
    });
  }

  get accountRoleVerifier(): AwsAccountAccess | undefined {
    // Local mode registers containers without assuming their roles: it has no AWS account to reach.
    return this.once('accountRoleVerifier', () => (this.config.mode === 'aws' ? this.awsAccountAccess : undefined));
  }

  get awsKms(): AwsKms {
    return this.once('awsKms', () => this.sdkAwsKms());
  }

  get awsKmsKeys(): AwsKmsKeys {
    return this.once('awsKmsKeys', () => this.sdkAwsKms());
  }

  /** One SDK adapter serves both halves of the AWS KMS port (one client and role cache). */
  private sdkAwsKms(): AwsKms & AwsKmsKeys {
    return this.once('sdkAwsKms', () => {
      const { SdkAwsKms } = require('../adapters/aws/kms-sdk') as typeof import('../adapters/aws/kms-sdk');
      return new SdkAwsKms();
    });
  }

  get clock(): Clock {
    return this.overrides.clock ?? systemClock;
  }

  get ids(): IdGenerator {
    return this.overrides.ids ?? uuidGenerator;
  }

  get keyStores(): KeyStoreService {
    return this.once('keyStores', () => new KeyStoreService(this));
  }

  get keyStoreCredentials(): KeyStoreCredentialService {
    return this.once('keyStoreCredentials', () => new KeyStoreCredentialService(this));
  }

  get keyStoreHealth(): KeyStoreHealthService {
    return this.once(
      'keyStoreHealth',
      () => new KeyStoreHealthService(new StateStoreXksStateSource(this.state), this.hsmAgent, { now: () => this.clock.now().getTime() }),
    );
  }

  get virtualKeys(): VirtualKeyService {
    return this.once('virtualKeys', () => new VirtualKeyService(this));
  }

  get hyokKeys(): HyokKeyService {
    return this.once('hyokKeys', () => new HyokKeyService(this));
  }

  get awsKeys(): AwsKeyService {
    return this.once('awsKeys', () => new AwsKeyService(this));
  }

  get accountContainers(): AccountContainerService {
    return this.once('accountContainers', () => new AccountContainerService(this));
  }

  get awsAccounts(): AwsAccountService {
    return this.once('awsAccounts', () => new AwsAccountService(this));
  }

  get hsmPartitions(): HsmPartitionService {
    return this.once('hsmPartitions', () => new HsmPartitionService(this));
  }

  get hsmKeys(): HsmKeyService {
    return this.once('hsmKeys', () => new HsmKeyService(this));
  }

  /** The override for `name` if one was given, else the member built by `make` on first use. */
  private once<T>(name: string, make: () => T): T {
    if (!this.built.has(name)) this.built.set(name, (this.overrides as Record<string, unknown>)[name] ?? make());
    return this.built.get(name) as T;
  }
}

export function createDependencies(config: RuntimeConfig, overrides: Partial<Ports> = {}): Dependencies {
  return new RuntimeDependencies(config, overrides);
}

let current: Dependencies | undefined;

/** This container's dependencies, built from the environment on first use. */
export function dependencies(): Dependencies {
  current ??= createDependencies(loadConfig());
  return current;
}

/** Installs the dependencies every handler in this process uses (tests, the local runner); undefined resets. */
export function setDependencies(deps: Dependencies | undefined): void {
  current = deps;
}
