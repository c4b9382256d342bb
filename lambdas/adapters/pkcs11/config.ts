/**
 * Settings of the PKCS#11 adapter. Built once by the entry point's composition root (which reads
 * the environment, see `pkcs11LibraryOverrides`) and passed into the adapters' constructors; the
 * adapter itself never reads `process.env`.
 */
import { ENV } from '../../contract/env';
import { PKCS11_CALL_MODES, type HsmType, type PartitionConnection, type Pkcs11CallMode } from '../../contract/hsm';
import type { HsmError } from '../../core/ports/hsm';

/** Where each vendor installs its PKCS#11 library (Debian `softhsm2`, Luna client, CloudHSM client SDK 5). */
export const DEFAULT_PKCS11_LIBRARIES: Readonly<Record<HsmType, string>> = {
  softhsm: '/usr/lib/softhsm/libsofthsm2.so',
  luna: '/usr/safenet/lunaclient/lib/libCryptoki2_64.so',
  cloudhsm: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so',
};

/**
 * Where C_Encrypt and C_Decrypt run (contract/hsm.ts Pkcs11CallMode). `worker-thread`: on a libuv
 * worker (pkcs11js `…Async`), raced against the call budget, so that an HSM that stalls answers
 * TIMEOUT (DependencyTimeoutException) in time while the event loop keeps serving. `inline`: on
 * the event loop, for a library with nothing to wait for; its budget is checked after the call.
 */
export type CipherCallMode = Pkcs11CallMode;

/**
 * Luna and CloudHSM are network HSMs: a call may wait for seconds on a link or an HSM that is
 * gone, and only a worker-thread call can be given up at the budget. SoftHSM2 computes in this
 * process, from files on local disk, in microseconds (its C_EncryptInit and C_GenerateRandom run
 * inline anyway); the worker hop cost more than the call: a queue under libuv's mutex, a thread
 * wake-up, the completion back on the event loop, and SoftHSM2's own locks contended between that
 * thread and the event loop. Inline, bench:xks measured 0.3-0.5 context switches per request
 * instead of ~3, less CPU per request and a shorter latency tail on the busy two-core machine.
 */
export const DEFAULT_CIPHER_CALL_MODES: Readonly<Record<HsmType, CipherCallMode>> = {
  softhsm: 'inline',
  luna: 'worker-thread',
  cloudhsm: 'worker-thread',
};

/**
 * Where the session calls run (session-call-workers.ts: C_OpenSession, C_GetSessionInfo, C_Login,
 * C_Logout, the object searches, C_GetAttributeValue, C_CreateObject, C_DestroyObject,
 * C_SignInit). pkcs11js has no asynchronous form of them: `worker-thread` runs them on a
 * node:worker_threads worker raced against the call's deadline, so that a network HSM that stalls
 * in a login or a search costs that call its deadline and leaves the event loop serving; `inline`
 * runs them on the event loop and checks the budget after the call. Network HSMs default to worker
 * threads; SoftHSM2 to inline (its calls take microseconds; the worker path is tested with it by
 * setting `softhsm: 'worker-thread'`, or a partition's `pkcs11CallMode`).
 */
export const DEFAULT_SESSION_CALL_MODES: Readonly<Record<HsmType, CipherCallMode>> = {
  softhsm: 'inline',
  luna: 'worker-thread',
  cloudhsm: 'worker-thread',
};

/** The XKS proxy's share of KMS's 250 ms per call. */
export const PROXY_CALL_TIMEOUT_MS = 200;
/** The HSM agent's budget: key generation on a network HSM is slower, and nobody waits on a hot path. */
export const AGENT_CALL_TIMEOUT_MS = 10_000;

export interface Pkcs11Config {
  /** PKCS#11 library per HSM type. @default DEFAULT_PKCS11_LIBRARIES */
  readonly libraries: Readonly<Record<HsmType, string>>;
  /** Where C_Encrypt / C_Decrypt run, per HSM type; a partition's `pkcs11CallMode` comes first. @default DEFAULT_CIPHER_CALL_MODES */
  readonly cipherCallModes: Readonly<Record<HsmType, CipherCallMode>>;
  /** Where the session calls (session-call-workers.ts) run, per HSM type; a partition's `pkcs11CallMode` comes first. @default DEFAULT_SESSION_CALL_MODES */
  readonly sessionCallModes: Readonly<Record<HsmType, CipherCallMode>>;
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
  /**
   * Told of every failure that dropped a partition's sessions (DEVICE_ERROR, TOKEN_NOT_FOUND),
   * before any retry: the proxy counts it in the alarm metric. @default - nobody is told
   */
  readonly onConnectionDropped?: (partition: PartitionConnection, failure: HsmError) => void;
}

/** Where the partition's C_Encrypt/C_Decrypt run: its own `pkcs11CallMode`, else its HSM type's in this container. */
export function cipherCallMode(partition: PartitionConnection, config: Pkcs11Config): Pkcs11CallMode {
  return partition.pkcs11CallMode ?? config.cipherCallModes[partition.hsmType];
}

/** Where the partition's session calls run: its own `pkcs11CallMode`, else its HSM type's in this container. */
export function sessionCallMode(partition: PartitionConnection, config: Pkcs11Config): Pkcs11CallMode {
  return partition.pkcs11CallMode ?? config.sessionCallModes[partition.hsmType];
}

/** What a composition root may set; everything else takes the documented default. */
export type Pkcs11Settings = Partial<Omit<Pkcs11Config, 'libraries' | 'cipherCallModes' | 'sessionCallModes' | 'onConnectionDropped'>> & {
  readonly onConnectionDropped?: Pkcs11Config['onConnectionDropped'];
  readonly libraries?: Partial<Record<HsmType, string>>;
  readonly cipherCallModes?: Partial<Record<HsmType, CipherCallMode>>;
  readonly sessionCallModes?: Partial<Record<HsmType, CipherCallMode>>;
};

/** A complete config from the given settings and the documented defaults. */
export function pkcs11Config(settings: Pkcs11Settings = {}): Pkcs11Config {
  return {
    libraries: { ...DEFAULT_PKCS11_LIBRARIES, ...settings.libraries },
    cipherCallModes: { ...DEFAULT_CIPHER_CALL_MODES, ...settings.cipherCallModes },
    sessionCallModes: { ...DEFAULT_SESSION_CALL_MODES, ...settings.sessionCallModes },
    callTimeoutMs: settings.callTimeoutMs ?? PROXY_CALL_TIMEOUT_MS,
    maxSessionsPerPartition: settings.maxSessionsPerPartition ?? 16,
    keyCacheMaxAgeMs: settings.keyCacheMaxAgeMs ?? 300_000,
    reinitializeIntervalMs: settings.reinitializeIntervalMs ?? 500,
    pinRetryIntervalMs: settings.pinRetryIntervalMs ?? 5_000,
    onConnectionDropped: settings.onConnectionDropped,
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

/**
 * The call modes set in the given environment (ENV.pkcs11CallModes, e.g. `softhsm=worker-thread`):
 * each listed HSM type runs both its cipher calls and its session calls that way. Throws, naming
 * the variable, on an unknown HSM type or mode.
 */
export function pkcs11CallModeOverrides(env: Readonly<Record<string, string | undefined>>): Partial<Record<HsmType, CipherCallMode>> {
  const overrides: Partial<Record<HsmType, CipherCallMode>> = {};
  for (const entry of (env[ENV.pkcs11CallModes] ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const [hsmType, mode] = entry.split('=').map((part) => part.trim()) as [HsmType, CipherCallMode | undefined];
    if (!(hsmType in DEFAULT_PKCS11_LIBRARIES) || mode === undefined || !PKCS11_CALL_MODES.includes(mode)) {
      throw new Error(`${ENV.pkcs11CallModes}: ${JSON.stringify(entry)} is not <softhsm|luna|cloudhsm>=<inline|worker-thread>`);
    }
    overrides[hsmType] = mode;
  }
  return overrides;
}
