/**
 * The composition root of the management API (get-a-room's setupDependencies): the ports of the
 * configured adapter set (ports.ts, adapter-set.ts) and the services over them, each built on first
 * use and kept for the container's life, so a function constructs only what its operation touches.
 *
 * Handlers get the container's dependencies through `dependencies()`, built from the environment
 * with the AWS adapter set; the local runner installs local ones with `setDependencies`. Tests
 * may pass ready-made ports and install the result the same way.
 *
 * Adding a service: one line in `Services` and one in `SERVICES`.
 */
import { AccountContainerService } from '../core/accounts/account-container-service';
import { AwsAccountService } from '../core/accounts/aws-account-service';
import { HsmKeyService } from '../core/hsm/hsm-key-service';
import { HsmPartitionService } from '../core/hsm/hsm-partition-service';
import type { JobRunner as SyncUnitRunner } from '../core/jobs/job-runner';
import { JobService } from '../core/jobs/job-service';
import { jobRunnerFor } from '../core/jobs/job-steps';
import { AwsKeyService } from '../core/keys/aws-key-service';
import { HyokKeyService } from '../core/keys/hyok-key-service';
import { KeyUploadService } from '../core/keys/key-upload-service';
import { VirtualKeyService } from '../core/keys/virtual-key-service';
import { KeyStoreCredentialService } from '../core/key-stores/key-store-credential-service';
import { KeyStoreHealthService } from '../core/key-stores/key-store-health-service';
import { KeyStoreService } from '../core/key-stores/key-store-service';
import { RemoteKeyStoreService } from '../core/key-stores/remote-key-store-service';
import { CloudHsmClusterService } from '../core/key-stores/cloudhsm-cluster-service';
import { CloudHsmKeyStoreService } from '../core/key-stores/cloudhsm-key-store-service';
import { CustomKeyStores } from '../core/key-stores/custom-key-stores';
import { CloudHsmKeyService } from '../core/keys/cloudhsm-key-service';
import { StateStoreXksStateSource } from '../core/state-store-xks-state-source';
import { JobConfigService } from '../core/schedules/job-config-service';
import { JobRunService } from '../core/schedules/job-run-service';
import { JobRunner } from '../core/schedules/job-runner';
import { ScheduleAssignmentService } from '../core/schedules/schedule-assignments';
import { portMakersFor } from './adapter-set';
import { loadConfig, type RuntimeConfig } from './config';
import { lazily, type Makers, type Ports } from './ports';

export interface Services {
  readonly accountContainers: AccountContainerService;
  readonly awsAccounts: AwsAccountService;
  readonly hsmPartitions: HsmPartitionService;
  readonly hsmKeys: HsmKeyService;
  readonly keyStores: KeyStoreService;
  readonly cloudHsmKeyStores: CloudHsmKeyStoreService;
  /** The custom key store routes: external and CloudHSM stores. */
  readonly customKeyStores: CustomKeyStores;
  readonly cloudHsmClusters: CloudHsmClusterService;
  readonly cloudHsmKeys: CloudHsmKeyService;
  readonly keyStoreCredentials: KeyStoreCredentialService;
  /** One per container: its rate limit counts per instance. */
  readonly keyStoreHealth: KeyStoreHealthService;
  readonly virtualKeys: VirtualKeyService;
  readonly hyokKeys: HyokKeyService;
  readonly awsKeys: AwsKeyService;
  readonly keyUploads: KeyUploadService;
  readonly jobConfigs: JobConfigService;
  readonly jobRuns: JobRunService;
  /** What EventBridge Scheduler invokes on AWS (lambdas/jobs/job-runner.ts) and the in-process scheduler locally. */
  readonly jobRunner: JobRunner;
  readonly scheduleAssignments: ScheduleAssignmentService;
  /** Synchronization jobs: start (schedules call it too), list, get, cancel. */
  readonly jobs: JobService;
  /** Runs one unit of a synchronization job (the worker functions, the local job queue). */
  readonly syncRunner: SyncUnitRunner;
}

export interface Dependencies extends Ports, Services {
  readonly config: RuntimeConfig;
}

const SERVICES: Makers<Services, Dependencies> = {
  accountContainers: (deps) => new AccountContainerService(deps),
  awsAccounts: (deps) => new AwsAccountService(deps),
  hsmPartitions: (deps) => new HsmPartitionService(deps),
  hsmKeys: (deps) => new HsmKeyService(deps),
  keyStores: (deps) => new KeyStoreService(deps, { mtlsTrustStore: deps.config.mtlsTrustStore ?? false }),
  cloudHsmKeyStores: (deps) => new CloudHsmKeyStoreService(deps),
  customKeyStores: (deps) => new CustomKeyStores(deps.keyStores, deps.cloudHsmKeyStores, new RemoteKeyStoreService(deps)),
  cloudHsmClusters: (deps) => new CloudHsmClusterService(deps),
  cloudHsmKeys: (deps) => new CloudHsmKeyService(deps),
  keyStoreCredentials: (deps) => new KeyStoreCredentialService(deps),
  keyStoreHealth: (deps) => {
    const { state, hsmAgent, clock } = deps;
    return new KeyStoreHealthService(new StateStoreXksStateSource(state), hsmAgent, { now: () => clock.now().getTime() });
  },
  virtualKeys: (deps) => new VirtualKeyService(deps),
  hyokKeys: (deps) => new HyokKeyService(deps),
  awsKeys: (deps) => new AwsKeyService(deps),
  keyUploads: (deps) => new KeyUploadService(deps),
  // Named one by one: spreading `deps` would build every member, this one included.
  jobConfigs: ({ state, clock, ids, jobScheduler }) => new JobConfigService({ state, clock, ids, jobScheduler }),
  jobRuns: (deps) => new JobRunService(deps),
  jobRunner: (deps) => new JobRunner(deps),
  scheduleAssignments: (deps) => new ScheduleAssignmentService(deps),
  jobs: (deps) => new JobService(deps),
  syncRunner: (deps) => jobRunnerFor(deps),
};

/** The ports of `config.mode`'s adapter set (or `given` ones) and the services over them. */
export function createDependencies(config: RuntimeConfig, given: Partial<Ports> = {}): Dependencies {
  return lazily<Dependencies>({ config: () => config, ...portMakersFor(config, given), ...SERVICES });
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
