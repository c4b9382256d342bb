/**
 * Client certificates for the mTLS tests, made with openssl: a CA the proxy trusts, a certificate
 * it issued for AWS KMS's subject (`cks.kms.<region>.amazonaws.com`), one it issued for another
 * subject, and one from a CA the proxy does not trust.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface ClientCertFiles {
  readonly keyPath: string;
  readonly certPath: string;
}

export interface ClientPki {
  readonly caCertPath: string;
  readonly kms: ClientCertFiles;
  readonly otherSubject: ClientCertFiles;
  readonly untrusted: ClientCertFiles;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): ClientCertFiles {
  const keyPath = join(dir, `${name}-key.pem`);
  const certPath = join(dir, `${name}-cert.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${name}`]);
  return { keyPath, certPath };
}

function issue(dir: string, name: string, cn: string, ca: ClientCertFiles): ClientCertFiles {
  const keyPath = join(dir, `${name}-key.pem`);
  const csrPath = join(dir, `${name}.csr`);
  const certPath = join(dir, `${name}-cert.pem`);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', `/CN=${cn}/O=Test`]);
  openssl(['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-out', certPath, '-days', '2']);
  return { keyPath, certPath };
}

export function createClientPki(dir: string, region: string): ClientPki {
  const ca = makeCa(dir, 'trusted-ca');
  const otherCa = makeCa(dir, 'untrusted-ca');
  return {
    caCertPath: ca.certPath,
    kms: issue(dir, 'kms', `cks.kms.${region}.amazonaws.com`, ca),
    otherSubject: issue(dir, 'other', 'someone.example.com', ca),
    untrusted: issue(dir, 'untrusted', `cks.kms.${region}.amazonaws.com`, otherCa),
  };
}
