/**
 * The local adapter set (`KEY_MANAGER_MODE=local`): DynamoDB Local for state, the encrypted local
 * secret store, tokens signed by a key under the state folder, the HSM agent in-process over
 * PKCS#11 (the service the agent Lambda runs, with the agent's time budget), and AWS accounts
 * through the local AWS stand-in's STS when the runner started it (none otherwise). It lives here, in local mode's home, so that no Lambda bundle
 * contains it: the local runner and tests register it with `useLocalAdapterSet()`.
 */
import { STSClient } from '@aws-sdk/client-sts';
import { StsAccountAccess } from '../adapters/aws/sts-account-access';
import { SdkCloudHsmClusterHsms, SdkCloudHsmClusters } from '../adapters/aws/cloudhsm-sdk';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../adapters/pkcs11/config';
import type { HsmAgent } from '../core/ports/hsm';
import type { SecretStore } from '../core/ports/secret-store';
import { registerAdapterSet } from '../runtime/adapter-set';
import { awsKmsAdapters, stateTableAdapters } from '../runtime/aws-adapter-set';
import type { AdapterSettings } from '../runtime/config';
import { type AdapterSet, systemClock, uuidGenerator } from '../runtime/ports';
import { jobRunnerFor } from '../core/jobs/job-steps';
import { InProcessJobQueue } from './adapters/in-process-job-queue';
import { LocalAwsAccountAccess } from './adapters/local-aws-account-access';
import { LOCAL_AWS_ENV } from './local-aws-env';
import { LocalJobScheduler } from './adapters/local-job-scheduler';
import { LocalSecretStore } from './adapters/local-secret-store';
import { LocalTokenVerifier } from './adapters/local-tokens';

export const localAdapterSet: AdapterSet = (settings) => ({
  ...stateTableAdapters(settings),
  secrets: () => new LocalSecretStore({ stateDir: settings.localStateDir }),
  hsmAgent: (ports) => inProcessHsmAgent(settings, ports.secrets),
  tokens: () => LocalTokenVerifier.fromStateDir(settings.localStateDir),
  // Through the local AWS stand-in's STS when the runner started one (as on AWS); else there is no AWS account to reach.
  awsAccountAccess: () => (settings.localStsEndpoint ? new StsAccountAccess({ client: new STSClient({}) }) : new LocalAwsAccountAccess()),
  accountRoleVerifier: (ports) => (settings.localStsEndpoint ? ports.awsAccountAccess : undefined),
  ...awsKmsAdapters(),
  // The stand-in's CloudHSMv2 when the runner started one; else nowhere (nothing listens there), never AWS.
  cloudHsm: () => new SdkCloudHsmClusters({ endpoint: settings.cloudHsmEndpoint ?? LOCAL_AWS_ENV.AWS_ENDPOINT_URL }),
  cloudHsmClusterHsms: () => new SdkCloudHsmClusterHsms({ endpoint: settings.cloudHsmEndpoint ?? LOCAL_AWS_ENV.AWS_ENDPOINT_URL }),
  clock: () => systemClock,
  ids: () => uuidGenerator,
  jobScheduler: () => new LocalJobScheduler({ stateDir: settings.localStateDir }),
  // The workers' code runs in this process on the units the queue holds (ports.jobQueue is this queue).
  jobQueue: (ports) => new InProcessJobQueue({ worker: (unit) => jobRunnerFor(ports).run(unit) }),
});

/** Makes the local adapter set the one of `local` mode in this process. */
export function useLocalAdapterSet(): void {
  registerAdapterSet('local', localAdapterSet);
}

/** Required when first used, so that taking the set does not load pkcs11js until the agent is needed. */
function inProcessHsmAgent(settings: AdapterSettings, secrets: SecretStore): HsmAgent {
  const { Pkcs11HsmAgent } = require('../adapters/pkcs11/hsm-agent') as typeof import('../adapters/pkcs11/hsm-agent');
  return new Pkcs11HsmAgent(pkcs11Config({ libraries: settings.pkcs11Libraries, cipherCallModes: settings.pkcs11CallModes, sessionCallModes: settings.pkcs11CallModes, callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), secrets);
}
