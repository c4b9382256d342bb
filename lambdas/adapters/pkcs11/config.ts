/**
 * Settings of the PKCS#11 adapter. Built once by the entry point's composition root (which reads
 * the environment, see `pkcs11LibraryOverrides`) and passed into the adapters' constructors; the
 * adapter itself never reads `process.env`.
 */
import { ENV } from '../../contract/env';
import type { HsmType } from '../../core/hsm';

/** Where each vendor installs its PKCS#11 library (Debian `softhsm2`, Luna client, CloudHSM client SDK 5). */
export const DEFAULT_PKCS11_LIBRARIES: Readonly<Record<HsmType, string>> = {
  softhsm: '/usr/lib/softhsm/libsofthsm2.so',
  luna: '/usr/safenet/lunaclient/lib/libCryptoki2_64.so',
  cloudhsm: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so',
};

/** The XKS proxy's share of KMS's 250 ms per call. */
export const PROXY_CALL_TIMEOUT_MS = 200;
/** The HSM agent's budget: key generation on a network HSM is slower, and nobody waits on a hot path. */
export const AGENT_CALL_TIMEOUT_MS = 10_000;

export interface Pkcs11Config {
  /** PKCS#11 library per HSM type. @default DEFAULT_PKCS11_LIBRARIES */
  readonly libraries: Readonly<Record<HsmType, string>>;
  /**
   * Time budget of one call (session, login, key lookup and the operation); beyond it the call
   * fails with reason TIMEOUT. @default PROXY_CALL_TIMEOUT_MS
   */
  readonly callTimeoutMs: number;
  /** Sessions kept open per partition; more concurrent calls queue. @default 16 */
  readonly maxSessionsPerPartition: number;
  /** How long a found key handle and its attributes are reused before being looked up again. @default 300000 */
  readonly keyCacheMaxAgeMs: number;
  /**
   * Shortest interval between two re-initialisations (C_Finalize + C_Initialize) of one library
   * while a token cannot be found: re-initialising drops every session of every partition on it.
   * A call whose budget reaches the next window waits for it (the agent's does, the proxy's
   * rarely). @default 500
   */
  readonly reinitializeIntervalMs: number;
  /**
   * After the HSM rejected a PIN, how long before the PIN is fetched again from the SecretStore.
   * A rejected PIN is never presented twice (HSMs lock a partition after a few wrong PINs).
   * @default 5000
   */
  readonly pinRetryIntervalMs: number;
}

/** What a composition root may set; everything else takes the documented default. */
export type Pkcs11Settings = Partial<Omit<Pkcs11Config, 'libraries'>> & {
  readonly libraries?: Partial<Record<HsmType, string>>;
};

/** A complete config from the given settings and the documented defaults. */
export function pkcs11Config(settings: Pkcs11Settings = {}): Pkcs11Config {
  return {
    libraries: { ...DEFAULT_PKCS11_LIBRARIES, ...settings.libraries },
    callTimeoutMs: settings.callTimeoutMs ?? PROXY_CALL_TIMEOUT_MS,
    maxSessionsPerPartition: settings.maxSessionsPerPartition ?? 16,
    keyCacheMaxAgeMs: settings.keyCacheMaxAgeMs ?? 300_000,
    reinitializeIntervalMs: settings.reinitializeIntervalMs ?? 500,
    pinRetryIntervalMs: settings.pinRetryIntervalMs ?? 5_000,
  };
}

/**
 * The library paths set in the given environment (ENV.pkcs11Library*), for the composition root:
 * `pkcs11Config({ libraries: pkcs11LibraryOverrides(process.env) })`.
 */
export function pkcs11LibraryOverrides(env: Readonly<Record<string, string | undefined>>): Partial<Record<HsmType, string>> {
  const overrides: Partial<Record<HsmType, string>> = {};
  const names: Record<HsmType, string> = {
    softhsm: ENV.pkcs11LibrarySofthsm,
    luna: ENV.pkcs11LibraryLuna,
    cloudhsm: ENV.pkcs11LibraryCloudhsm,
  };
  for (const [hsmType, name] of Object.entries(names) as [HsmType, string][]) {
    const value = env[name]?.trim();
    if (value) overrides[hsmType] = value;
  }
  return overrides;
}
