/**
 * The ports an entry point may take, and how an adapter set builds them. One composition pattern
 * for every entry point (API handlers, XKS proxy, HSM agent, and the job workers to come):
 *  1. the entry reads and validates its configuration once (config.ts);
 *  2. `portsFor(config)` (adapter-set.ts) picks the adapter set of `config.mode` once: AWS (aws-adapter-set.ts,
 *     built in) or local (lambdas/local/local-adapter-set.ts, registered by the local runner and
 *     by tests, so that no Lambda bundle contains local-mode code);
 *  3. the set yields the ports, each built on first use and then kept, so an entry constructs (and
 *     needs the settings of) only the ports it takes.
 *
 * A new AWS client (KMS, CloudHSM, scheduler, queue) is one port in `Ports` and one line in each
 * adapter set.
 */
import { randomUUID } from 'node:crypto';
import type { AwsAccountAccess } from '../core/ports/aws-account-access';
import type { AwsKms } from '../core/ports/aws-kms';
import type { AwsKmsKeys } from '../core/ports/aws-kms-keys';
import type { CloudHsmClusterHsms, CloudHsmClusters } from '../core/ports/cloudhsm-clusters';
import type { Clock } from '../core/ports/clock';
import type { CredentialUsage } from '../core/ports/credential-usage';
import type { HsmAgent } from '../core/ports/hsm';
import type { IdGenerator } from '../core/ports/id-generator';
import type { JobScheduler } from '../core/ports/job-scheduler';
import type { JobQueue } from '../core/ports/job-queue';
import type { SecretStore } from '../core/ports/secret-store';
import type { StateStore } from '../core/ports/state-store';
import type { TokenVerifier } from '../core/ports/token-verifier';
import type { AdapterSettings } from './config';

/** Every port an entry point may take. */
export interface Ports {
  readonly state: StateStore;
  /** When each XKS credential last authenticated a request (in the state table). */
  readonly credentialUsage: CredentialUsage;
  readonly secrets: SecretStore;
  readonly hsmAgent: HsmAgent;
  readonly tokens: TokenVerifier;
  /** STS on AWS; locally a stand-in that answers that there is no AWS account. */
  readonly awsAccountAccess: AwsAccountAccess;
  /** What verifies account container roles: `awsAccountAccess` on AWS, none locally (no AWS account to reach). */
  readonly accountRoleVerifier?: AwsAccountAccess;
  /** AWS KMS of the account containers; locally the local AWS stand-in (the SDK's endpoint override, set by the local runner). */
  readonly awsKms: AwsKms;
  /** The KMS keys of the account containers (the same SDK adapter as `awsKms`). */
  readonly awsKmsKeys: AwsKmsKeys;
  /** AWS CloudHSM clusters of the account containers (locally the stand-in: AWS_ENDPOINT_URL_CLOUDHSM_V2, read by the adapter). */
  readonly cloudHsm: CloudHsmClusters;
  /** The HSMs of a CloudHSM cluster in the deployment's own account, for the XKS proxy's deep health check (the same endpoint setting). */
  readonly cloudHsmClusterHsms: CloudHsmClusterHsms;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Job configurations' schedules: EventBridge Scheduler on AWS; locally the file the in-process scheduler reads. */
  readonly jobScheduler: JobScheduler;
  /** Units of synchronization jobs: SQS on AWS, an in-process queue running the job runner locally. */
  readonly jobQueue: JobQueue;
}

/** How each member of `T` is built, from the (lazily built) whole `Self` it is part of. */
export type Makers<T, Self = T> = { readonly [K in keyof T]-?: (self: Self) => T[K] };

/** An adapter set: the port makers for one mode, from the entry's settings. */
export type AdapterSet = (settings: AdapterSettings) => Makers<Ports>;

export const systemClock: Clock = { now: () => new Date() };
export const uuidGenerator: IdGenerator = { newId: () => randomUUID() };

/**
 * An object whose members are built by `makers` on first use, once each (a member whose maker
 * throws, e.g. for a missing setting, is tried again on the next use).
 */
export function lazily<T extends object>(makers: Makers<T>): T {
  const built = new Map<PropertyKey, unknown>();
  const self = {} as T;
  for (const name of Object.keys(makers) as (keyof T)[]) {
    Object.defineProperty(self, name, {
      enumerable: true,
      get: () => {
        if (!built.has(name)) built.set(name, makers[name](self));
        return built.get(name);
      },
    });
  }
  return self;
}
