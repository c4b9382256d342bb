/**
 * A fresh SoftHSM2 token per suite (or per test), registered as a partition whose PIN lives in an
 * in-memory SecretStore under `secretNames.hsmPin(partitionId)`, exactly as the control plane
 * stores it. jest's globalSetup normally exports SOFTHSM2_CONF; when it has not (a single suite
 * run with `--globalSetup=''`), the helper writes its own config in a temp folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { HsmType, PartitionConnection } from '../../lambdas/contract/hsm';
import { secretNames } from '../../lambdas/core/secret-names';
import type { SecretStore, StoredSecret } from '../../lambdas/core/ports/secret-store';
import * as pkcs11js from 'pkcs11js';
import { AGENT_CALL_TIMEOUT_MS, DEFAULT_PKCS11_LIBRARIES } from '../../lambdas/adapters/pkcs11/config';
import { Deadline } from '../../lambdas/adapters/pkcs11/deadline';
import { pkcs11ModuleFor } from '../../lambdas/adapters/pkcs11/module';
import { createSoftHsmToken, writeSoftHsmConfig } from '../../lambdas/local/softhsm-token';

/** A Map-backed SecretStore for tests. */
export class MemorySecretStore implements SecretStore {
  readonly values = new Map<string, string>();
  /** When each secret was first put (tests may move it back to age a secret). */
  readonly createdAt = new Map<string, Date>();

  async put(name: string, value: string): Promise<void> {
    this.values.set(name, value);
    if (!this.createdAt.has(name)) this.createdAt.set(name, new Date());
  }

  async get(name: string): Promise<string | undefined> {
    return this.values.get(name);
  }

  async delete(name: string): Promise<void> {
    this.values.delete(name);
    this.createdAt.delete(name);
  }

  async list(): Promise<StoredSecret[]> {
    return [...this.values.keys()].map((name) => ({ name, createdAt: this.createdAt.get(name) ?? new Date() }));
  }
}

export interface TestToken {
  readonly partition: PartitionConnection;
  readonly pin: string;
  readonly soPin: string;
  /** Holds `pin` under `partition.pinSecretName`. */
  readonly secretStore: MemorySecretStore;
}

let tokenCounter = 0;

/** Makes sure SOFTHSM2_CONF names a config; returns its path. */
export function ensureSoftHsmConfig(): string {
  if (!process.env.SOFTHSM2_CONF) {
    process.env.SOFTHSM2_CONF = writeSoftHsmConfig(mkdtempSync(join(tmpdir(), 'softhsm-')));
  }
  return process.env.SOFTHSM2_CONF;
}

/** Initialises a token with a unique label (≤ 32 characters, as PKCS#11 allows) and random PINs. */
export async function createTestToken(options: { prefix?: string; hsmType?: HsmType } = {}): Promise<TestToken> {
  ensureSoftHsmConfig();
  tokenCounter += 1;
  const label = `${options.prefix ?? 't'}-${process.pid}-${tokenCounter}-${randomBytes(3).toString('hex')}`.slice(0, 32);
  const pin = randomBytes(8).toString('hex');
  const soPin = randomBytes(8).toString('hex');
  await createSoftHsmToken({ label, pin, soPin });
  const partitionId = `partition-${label}`;
  const partition: PartitionConnection = {
    partitionId,
    hsmType: options.hsmType ?? 'softhsm',
    tokenLabel: label,
    pinSecretName: secretNames.hsmPin(partitionId),
  };
  const secretStore = new MemorySecretStore();
  await secretStore.put(partition.pinSecretName, pin);
  return { partition, pin, soPin, secretStore };
}

function tokenRoot(): string {
  const conf = readFileSync(ensureSoftHsmConfig(), 'utf8');
  const match = /^\s*directories\.tokendir\s*=\s*(.+?)\s*$/m.exec(conf);
  if (!match) throw new Error(`no directories.tokendir in ${process.env.SOFTHSM2_CONF}`);
  return match[1];
}

/** The token's folder: SoftHSM2 names it by UUID and stores the 32-byte padded label in token.object. */
export function tokenDirectory(label: string): string {
  const root = tokenRoot();
  const padded = Buffer.from(label.padEnd(32, ' '));
  for (const entry of readdirSync(root)) {
    try {
      if (readFileSync(join(root, entry, 'token.object')).includes(padded)) return join(root, entry);
    } catch {
      // not a token folder (or one being written by another suite)
    }
  }
  throw new Error(`no SoftHSM2 token folder with label ${JSON.stringify(label)} under ${root}`);
}

/**
 * Takes the token away as an unplugged HSM would be: its folder is moved out of the token
 * directory. Returns the function that puts it back.
 */
export function makeTokenUnavailable(label: string): () => void {
  const dir = tokenDirectory(label);
  // Out of the token directory (SoftHSM2 would find the folder under any name inside it), on the same file system.
  const away = join(dirname(tokenRoot()), `${basename(dir)}.away`);
  renameSync(dir, away);
  return () => renameSync(away, dir);
}

/**
 * A logged-in user session on `token` through this process's PKCS#11 module (a library another
 * suite of this jest worker loaded sees a new token only after re-initialising, which the module
 * does without breaking its other users). For tests that drive PKCS#11 directly.
 */
export async function openUserSession(token: TestToken): Promise<{ pkcs11: pkcs11js.PKCS11; session: pkcs11js.Handle }> {
  const module = pkcs11ModuleFor(DEFAULT_PKCS11_LIBRARIES.softhsm);
  let pkcs11!: pkcs11js.PKCS11;
  const findSlot = async () => {
    pkcs11 = await module.enter(new Deadline(AGENT_CALL_TIMEOUT_MS));
    try {
      return module.findSlot(token.partition.tokenLabel);
    } finally {
      module.leave();
    }
  };
  let slot = await findSlot();
  if (slot === undefined) {
    await module.reinitialize(module.generation, 0, new Deadline(AGENT_CALL_TIMEOUT_MS));
    slot = await findSlot();
  }
  const session = pkcs11.C_OpenSession(slot!, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  pkcs11.C_Login(session, pkcs11js.CKU_USER, token.pin);
  return { pkcs11, session };
}
