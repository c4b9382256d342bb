/**
 * The XKS proxy's composition root: builds the proxy once per container from the runtime
 * configuration (runtime/config.ts, names in contract/env.ts) and the ports it takes from the
 * configured adapter set (runtime/ports.ts: state, secrets, credential usage, and the CloudHSM
 * clusters' HSMs for the deep health check), plus the PKCS#11 KeyCrypto, which only the proxy
 * container loads.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ENV, METRICS } from '../../contract/env';
import { pkcs11Config } from '../../adapters/pkcs11/config';
import type { PartitionConnection } from '../../contract/hsm';
import type { HsmError } from '../../core/ports/hsm';
import { Pkcs11KeyCrypto } from '../../adapters/pkcs11/key-crypto';
import { StateStoreXksStateSource } from '../../core/state-store-xks-state-source';
import { portsFor } from '../../runtime/adapter-set';
import { loadConfig, readChoice, readOptionalString, type RuntimeConfig } from '../../runtime/config';
import type { Ports } from '../../runtime/ports';
import { PowertoolsXksMetrics } from '../observability/metrics';
import { BatchedLogger, flushOnExit } from '../observability/batched-logger';
import type { CloudHsmHealthOptions } from '../health/deep-health-check';
import { XksProxy, type XksProxyDeps } from '../xks-proxy';

type Env = Readonly<Record<string, string | undefined>>;

/** The proxy's own settings (the shared ones are in RuntimeConfig). */
export interface XksProxySettings {
  /** `xksProxyFleetSize` of GetHealthStatus. */
  readonly fleetSize: number;
  /** Whether the ALB verified client certificates (mutual authentication in verify mode). */
  readonly albMtlsVerify: boolean;
}

export function loadXksProxySettings(env: Env = process.env): XksProxySettings {
  const fleetSizeText = readOptionalString(env, ENV.xksProxyFleetSize) ?? '1';
  const fleetSize = Number(fleetSizeText);
  if (!Number.isInteger(fleetSize) || fleetSize < 1) {
    throw new Error(`The environment variable ${ENV.xksProxyFleetSize} must be an integer greater than zero, not ${JSON.stringify(fleetSizeText)}`);
  }
  return { fleetSize, albMtlsVerify: readChoice(env, ENV.xksAlbMtlsVerify, ['true', 'false'], 'false') === 'true' };
}

/** The Powertools logger of the proxy (service name shared with its metrics), writing its request lines in batches. */
export function createXksLogger(): BatchedLogger {
  const logger = new BatchedLogger({ serviceName: METRICS.service });
  flushOnExit(logger);
  return logger;
}

/** The ports the proxy takes from the adapter set. */
export type XksProxyPorts = Pick<Ports, 'state' | 'secrets' | 'credentialUsage'>;

/**
 * The proxy's dependencies: state read through the control plane's StateStore, secrets from its
 * SecretStore, AES-GCM in the HSM through PKCS#11 (with the proxy's share of the 250 ms KMS budget).
 */
export function xksProxyDeps(
  ports: XksProxyPorts,
  config: Pick<RuntimeConfig, 'pkcs11Libraries' | 'pkcs11CallModes'>,
  logger: BatchedLogger,
  options: { readonly metrics: boolean },
): XksProxyDeps {
  const metrics = options.metrics ? new PowertoolsXksMetrics(new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service })) : undefined;
  const onConnectionDropped = (partition: PartitionConnection, failure: HsmError) => {
    logger.warn('HSM connection dropped', { partitionId: partition.partitionId, hsmType: partition.hsmType, reason: failure.reason, returnCode: failure.returnCode });
    metrics?.hsmConnectionDropped();
  };
  return {
    state: new StateStoreXksStateSource(ports.state),
    keyCrypto: new Pkcs11KeyCrypto(pkcs11Config({ libraries: config.pkcs11Libraries, cipherCallModes: config.pkcs11CallModes, sessionCallModes: config.pkcs11CallModes, onConnectionDropped }), ports.secrets),
    secrets: ports.secrets,
    credentialUsage: ports.credentialUsage,
    logger,
    rehearsalLogger: logger.discardingLines(),
    metrics,
  };
}

/**
 * How the deep health check lists the HSMs of a CloudHSM partition's cluster: DescribeClusters
 * through `ports.cloudHsmClusterHsms` (in the health refresh only), a failed or slow call logged.
 */
export function cloudHsmHealthOptions(ports: Pick<Ports, 'cloudHsmClusterHsms'>, logger: Logger): CloudHsmHealthOptions {
  return {
    clusters: ports.cloudHsmClusterHsms,
    onLookupFailed: (clusterId, error) => logger.warn('CloudHSM cluster HSMs not listed', { clusterId, error: error.message }),
  };
}

export interface XksProxyRuntime {
  readonly proxy: XksProxy;
  readonly logger: Logger;
  readonly settings: XksProxySettings;
}

/** Everything the Lambda entry needs, from the environment. */
export function createXksProxyRuntime(env: Env = process.env, logger: BatchedLogger = createXksLogger()): XksProxyRuntime {
  const settings = loadXksProxySettings(env);
  const config = loadConfig(env);
  const ports = portsFor(config);
  const proxy = new XksProxy(xksProxyDeps(ports, config, logger, { metrics: true }), { fleetSize: settings.fleetSize, health: { cloudHsm: cloudHsmHealthOptions(ports, logger) } });
  return { proxy, logger, settings };
}
