/**
 * PKCS#11 benchmark against SoftHSM2: AES-256-GCM encrypt and decrypt through Pkcs11KeyCrypto
 * (the XKS proxy's path below HTTP: session pool, cached key handle, the HSM's RNG for the IV),
 * with the proxy's own time budget. Prints throughput and p50/p99 latency per scenario.
 *
 *   npx tsx scripts/bench-pkcs11.ts [--seconds 3] [--concurrency 1,16,64]
 *
 * Uses SOFTHSM2_CONF when set, otherwise a throw-away token folder under the system temp dir.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AGENT_CALL_TIMEOUT_MS, pkcs11Config } from '../lambdas/adapters/pkcs11/config';
import { Pkcs11KeyCrypto } from '../lambdas/adapters/pkcs11/key-crypto';
import { whenPkcs11Idle } from '../lambdas/adapters/pkcs11/module';
import type { GcmCiphertext } from '../lambdas/core/ports/hsm';
import { KEY_ATTRIBUTE_NAMES, type HsmKeyRef, type KeyAttributes } from '../lambdas/contract/hsm';
import { Pkcs11HsmAgent } from '../lambdas/adapters/pkcs11/hsm-agent';
import { createTestToken } from '../test/helpers/softhsm';
import { writeSoftHsmConfig } from '../lambdas/local/softhsm-token';

const { values: options } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '1,16,64' } },
});
const seconds = Number(options.seconds);
const concurrencies = options.concurrency.split(',').map(Number);

interface Result {
  readonly ops: number;
  readonly failures: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const percentile = (sorted: number[], fraction: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? NaN;

/** Runs `operation` from `concurrency` parallel loops for `seconds`; latencies in ms. */
async function measure(concurrency: number, operation: () => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  let failures = 0;
  const started = process.hrtime.bigint();
  const endAt = started + BigInt(Math.round(seconds * 1e9));
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (process.hrtime.bigint() < endAt) {
        const t0 = process.hrtime.bigint();
        try {
          await operation();
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        } catch {
          failures += 1;
        }
      }
    }),
  );
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    failures,
    opsPerSecond: latencies.length / elapsedSeconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

async function main(): Promise<void> {
  // A throw-away token folder unless SOFTHSM2_CONF names one (the test helper's own fallback would leave it behind).
  const ownDir = process.env.SOFTHSM2_CONF ? undefined : mkdtempSync(join(tmpdir(), 'bench-pkcs11-'));
  if (ownDir) process.env.SOFTHSM2_CONF = writeSoftHsmConfig(ownDir);
  try {
    const { partition, secretStore: secrets } = await createTestToken({ prefix: 'bench' });

    const listed = ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_SENSITIVE', 'CKA_TOKEN', 'CKA_PRIVATE'];
    const attributes = Object.fromEntries(KEY_ATTRIBUTE_NAMES.map((name) => [name, listed.includes(name)])) as unknown as KeyAttributes;
    const objectId = randomBytes(16).toString('hex');
    await new Pkcs11HsmAgent(pkcs11Config({ callTimeoutMs: AGENT_CALL_TIMEOUT_MS }), secrets).generateKey(partition, {
      objectId,
      label: 'bench',
      sizeBits: 256,
      attributes,
    });
    const key: HsmKeyRef = { partition, objectId };
    const config = pkcs11Config();
    const crypto = new Pkcs11KeyCrypto(config, secrets);
    const aad = randomBytes(64);

    console.log(`PKCS#11 benchmark: SoftHSM2 (${config.libraries.softhsm}), AES-256-GCM, AAD 64 bytes`);
    console.log(
      `machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, node ${process.version}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ` +
        `call budget ${config.callTimeoutMs} ms, ≤ ${config.maxSessionsPerPartition} sessions, ${seconds} s per row`,
    );
    console.log('operation  plaintext  concurrency      ops/s   p50 ms   p99 ms  failures');
    for (const size of [32, 4_300]) {
      const plaintext = randomBytes(size);
      const sealed: GcmCiphertext = await crypto.encrypt(key, plaintext, aad);
      await crypto.decrypt(key, sealed, aad); // warm: session, login, key handle
      for (const concurrency of concurrencies) {
        for (const [name, operation] of [
          ['encrypt', () => crypto.encrypt(key, plaintext, aad)],
          ['decrypt', () => crypto.decrypt(key, sealed, aad)],
        ] as const) {
          const result = await measure(concurrency, operation);
          console.log(
            `${name.padEnd(9)}  ${String(size).padStart(9)}  ${String(concurrency).padStart(11)}  ${result.opsPerSecond.toFixed(0).padStart(9)}  ` +
              `${result.p50Ms.toFixed(3).padStart(7)}  ${result.p99Ms.toFixed(3).padStart(7)}  ${String(result.failures).padStart(8)}`,
          );
        }
      }
    }
    await whenPkcs11Idle();
  } finally {
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
