/**
 * Secret access keys of XKS credentials, fetched from the SecretStore once per credential and
 * kept in memory. A credential's secret never changes (rotation creates a new credential), and a
 * deleted credential disappears from the cached key store view within 5 s, so a long age here
 * does not delay revocation. Values are never logged.
 */
import type { SecretStore } from '../../core/ports/secret-store';
import type { XksCredentialView } from '../../core/ports/xks-state-source';
import { ExpiringCache } from './expiring-cache';

export class CredentialSecrets {
  private readonly cache: ExpiringCache<string | undefined>;

  constructor(
    private readonly secrets: SecretStore,
    options: { readonly maxAgeMs?: number; readonly now?: () => number } = {},
  ) {
    this.cache = new ExpiringCache({ maxAgeMs: options.maxAgeMs ?? 15 * 60_000, now: options.now });
  }

  async resolve(credential: XksCredentialView): Promise<string | undefined> {
    const key = cacheKey(credential);
    const secret = await this.cache.get(key, () => this.secrets.get(credential.secretName));
    // A secret written just after its credential record must not stay "missing" for long.
    if (secret === undefined) this.cache.invalidate(key);
    return secret;
  }

  /** The secret when it is cached, at once; undefined when only `resolve` can tell. */
  cached(credential: XksCredentialView): string | undefined {
    return this.cache.peek(cacheKey(credential), () => this.secrets.get(credential.secretName))?.value;
  }
}

function cacheKey(credential: XksCredentialView): string {
  return `${credential.id}\n${credential.secretName}`;
}
