/**
 * Computes an HMAC with a key of a running local system's SoftHSM2 token, inside the HSM, through
 * the HSM agent service (the e2e tests' reference MAC). Runs as its own process, since SoftHSM2
 * reads the token folder's config (SOFTHSM2_CONF, the system's) once per process.
 *
 *   SOFTHSM2_CONF=<state>/softhsm/softhsm2.conf tsx test/helpers/hsm-hmac-cli.ts '<json>'
 *   json: {stateDir, partition: PartitionConnection, objectId, message (base64), algorithm}
 * Prints {"mac": base64}.
 */
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../../lambdas/adapters/pkcs11/config';
import { Pkcs11HsmAgent } from '../../lambdas/adapters/pkcs11/hsm-agent';
import type { PartitionConnection } from '../../lambdas/contract/hsm';
import type { HmacAlgorithm } from '../../lambdas/contract/hsm-key-types';
import { LocalSecretStore } from '../../lambdas/local/adapters/local-secret-store';

interface HmacJob {
  readonly stateDir: string;
  readonly partition: PartitionConnection;
  readonly objectId: string;
  readonly message: string;
  readonly algorithm: HmacAlgorithm;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as HmacJob;
  const agent = new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), new LocalSecretStore({ stateDir: job.stateDir }));
  const result = await agent.signHmac({ partition: job.partition, objectId: job.objectId }, { message: job.message, algorithm: job.algorithm });
  process.stdout.write(JSON.stringify(result), () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
