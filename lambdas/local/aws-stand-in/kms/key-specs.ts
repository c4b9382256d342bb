/**
 * What each KMS key spec allows, as AWS documents it: the key usages it may have and the
 * algorithms DescribeKey lists for each usage. CreateKey checks usage against spec here; origins
 * say which specs they can make (key-origins.ts).
 */
import type { KeyUsage } from './key-record';

interface KeySpecRules {
  readonly usages: readonly KeyUsage[];
  readonly encryptionAlgorithms?: readonly string[];
  readonly signingAlgorithms?: readonly string[];
  readonly macAlgorithms?: readonly string[];
  readonly keyAgreementAlgorithms?: readonly string[];
}

const RSA_SIGNING = ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
const RSA_ENCRYPTION = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
const rsa: KeySpecRules = { usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], encryptionAlgorithms: RSA_ENCRYPTION, signingAlgorithms: RSA_SIGNING };
const ecc = (signing: string): KeySpecRules => ({ usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], signingAlgorithms: [signing], keyAgreementAlgorithms: ['ECDH'] });
const hmac = (bits: number): KeySpecRules => ({ usages: ['GENERATE_VERIFY_MAC'], macAlgorithms: [`HMAC_SHA_${bits}`] });

export const KEY_SPECS: Readonly<Record<string, KeySpecRules>> = {
  SYMMETRIC_DEFAULT: { usages: ['ENCRYPT_DECRYPT'], encryptionAlgorithms: ['SYMMETRIC_DEFAULT'] },
  RSA_2048: rsa,
  RSA_3072: rsa,
  RSA_4096: rsa,
  ECC_NIST_P256: ecc('ECDSA_SHA_256'),
  ECC_NIST_P384: ecc('ECDSA_SHA_384'),
  ECC_NIST_P521: ecc('ECDSA_SHA_512'),
  ECC_SECG_P256K1: { usages: ['SIGN_VERIFY'], signingAlgorithms: ['ECDSA_SHA_256'] },
  HMAC_224: hmac(224),
  HMAC_256: hmac(256),
  HMAC_384: hmac(384),
  HMAC_512: hmac(512),
};

export const KEY_USAGES: readonly KeyUsage[] = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT', 'ENCAPSULATE_DECAPSULATE'];

/** The algorithms fields of KeyMetadata for a key of this spec and usage. */
export function algorithmsOf(keySpec: string, keyUsage: KeyUsage): Record<string, readonly string[]> {
  const rules = KEY_SPECS[keySpec];
  if (!rules) return {};
  switch (keyUsage) {
    case 'ENCRYPT_DECRYPT':
      return { EncryptionAlgorithms: rules.encryptionAlgorithms ?? [] };
    case 'SIGN_VERIFY':
      return { SigningAlgorithms: rules.signingAlgorithms ?? [] };
    case 'GENERATE_VERIFY_MAC':
      return { MacAlgorithms: rules.macAlgorithms ?? [] };
    case 'KEY_AGREEMENT':
      return { KeyAgreementAlgorithms: rules.keyAgreementAlgorithms ?? [] };
    default:
      return {};
  }
}
