/**
 * The session pools of one adapter instance, one per partition connection, each on the process's
 * module for the partition's PKCS#11 library.
 */
import type { PartitionConnection } from '../../contract/hsm';
import type { SecretStore } from '../../core/ports/secret-store';
import type { Pkcs11Config } from './config';
import { pkcs11ModuleFor, type Pkcs11Module } from './module';
import { PartitionSessionPool, type RunOptions } from './session-pool';
import type { SessionLease } from './session-lease';

export class Pkcs11Partitions {
  private readonly pools = new Map<string, PartitionSessionPool>();
  /** The pool of each partition object seen: the proxy's cached key views hand the same object to every request. */
  private readonly poolOfPartition = new WeakMap<PartitionConnection, PartitionSessionPool>();

  constructor(
    private readonly config: Pkcs11Config,
    private readonly secretStore: SecretStore,
    /** The process's module per library path; tests pass a scripted library. */
    private readonly moduleFor: (libraryPath: string) => Pkcs11Module = pkcs11ModuleFor,
  ) {}

  /** Runs `work` with a logged-in session of the partition (see PartitionSessionPool.run). */
  run<T>(partition: PartitionConnection, work: (lease: SessionLease) => Promise<T>, options?: RunOptions): Promise<T> {
    return this.pool(partition).run(work, options);
  }

  private pool(partition: PartitionConnection): PartitionSessionPool {
    const known = this.poolOfPartition.get(partition);
    if (known) return known;
    // A changed label, type, secret name or call mode is another connection: it gets its own pool.
    const key = JSON.stringify([partition.partitionId, partition.hsmType, partition.tokenLabel, partition.pinSecretName, partition.pkcs11CallMode]);
    let pool = this.pools.get(key);
    if (!pool) {
      const module = this.moduleFor(this.config.libraries[partition.hsmType]);
      pool = new PartitionSessionPool(partition, module, this.config, this.secretStore);
      this.pools.set(key, pool);
    }
    this.poolOfPartition.set(partition, pool);
    return pool;
  }
}
