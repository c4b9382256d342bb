/**
 * `SecretStore` for local mode: each secret is an AES-256-GCM encrypted JSON file under
 * `<stateDir>/secrets/`, encrypted with a 256-bit key in `<stateDir>/secrets.key` that is created
 * on first use. Files and key are 0600, folders 0700; no plaintext ever reaches the disk.
 *
 * One file per secret (named by a hash of the secret name) rather than one file for all: writes are
 * an atomic rename of one file, so two processes (the runner and the local XKS proxy) never lose
 * each other's updates. The secret name is the GCM AAD, so a file copied over another is refused.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretStore, StoredSecret } from '../../core/ports/secret-store';
import { SECRET_PREFIXES } from '../../contract/env';

const KEY_BYTES = 32;
const IV_BYTES = 12;

interface SecretFile {
  readonly v: 1;
  readonly name: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

export interface LocalSecretStoreProps {
  /** The local state folder (`.local/` by default in config). */
  readonly stateDir: string;
}

export class LocalSecretStore implements SecretStore {
  private readonly secretsDir: string;
  private readonly keyFile: string;
  private key?: Promise<Buffer>;

  constructor(props: LocalSecretStoreProps) {
    this.secretsDir = join(props.stateDir, 'secrets');
    this.keyFile = join(props.stateDir, 'secrets.key');
  }

  async put(name: string, value: string): Promise<void> {
    const key = await this.encryptionKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const file: SecretFile = { v: 1, name, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
    const path = this.pathOf(name);
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, JSON.stringify(file), { mode: 0o600, flag: 'wx' });
    await rename(temporary, path);
  }

  async get(name: string): Promise<string | undefined> {
    let raw: string;
    try {
      raw = await readFile(this.pathOf(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const file = JSON.parse(raw) as SecretFile;
    const decipher = createDecipheriv('aes-256-gcm', await this.encryptionKey(), Buffer.from(file.iv, 'base64'))
      .setAAD(Buffer.from(name, 'utf8'))
      .setAuthTag(Buffer.from(file.tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new Error(`The local secret ${JSON.stringify(name)} cannot be decrypted with ${this.keyFile} (tampered with, or the key was replaced)`, { cause: error });
    }
  }

  async delete(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
  }

  /** Names come from the files (never the values); the time is the file's last write (a `put` replaces the file). */
  async list(): Promise<StoredSecret[]> {
    let files: string[];
    try {
      files = (await readdir(this.secretsDir)).filter((file) => file.endsWith('.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const prefixes = Object.values(SECRET_PREFIXES);
    const listed: StoredSecret[] = [];
    for (const file of files) {
      const path = join(this.secretsDir, file);
      try {
        const { name } = JSON.parse(await readFile(path, 'utf8')) as SecretFile;
        if (prefixes.some((prefix) => name.startsWith(prefix))) listed.push({ name, createdAt: (await stat(path)).mtime });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // deleted meanwhile
      }
    }
    return listed;
  }

  private pathOf(name: string): string {
    return join(this.secretsDir, `${createHash('sha256').update(name, 'utf8').digest('hex')}.json`);
  }

  /** Reads the key file, creating it (exclusively, so two processes agree on one key) on first use. */
  private encryptionKey(): Promise<Buffer> {
    this.key ??= this.loadOrCreateKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  private async loadOrCreateKey(): Promise<Buffer> {
    await mkdir(this.secretsDir, { recursive: true, mode: 0o700 });
    await chmod(this.secretsDir, 0o700);
    // Written to a temporary file, then hard-linked into place: link() fails if the key exists, so
    // two processes starting together agree on one key and nobody reads a half-written file.
    const candidate = randomBytes(KEY_BYTES);
    const temporary = `${this.keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, candidate, { mode: 0o600, flag: 'wx' });
    try {
      await link(temporary, this.keyFile);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(temporary, { force: true });
    }
    const key = await readFile(this.keyFile);
    if (key.length !== KEY_BYTES) throw new Error(`${this.keyFile} holds ${key.length} bytes, not a ${KEY_BYTES * 8}-bit key`);
    return key;
  }
}
