/**
 * The local XKS proxy's TLS certificate: self-signed for `localhost` and 127.0.0.1, made once with
 * openssl under `<state>/tls/` and reused on later starts. Clients trust it by using the
 * certificate itself as their CA (`curl --cacert`, Node's `ca` option).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  readonly keyPath: string;
  readonly certPath: string;
}

export function ensureSelfSignedCert(dir: string): TlsFiles {
  const keyPath = join(dir, 'localhost-key.pem');
  const certPath = join(dir, 'localhost-cert.pem');
  if (existsSync(keyPath) && existsSync(certPath)) return { keyPath, certPath };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '825', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  chmodSync(keyPath, 0o600);
  return { keyPath, certPath };
}
