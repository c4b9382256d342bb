/** XKS request bodies as AWS KMS sends them (spec examples), with overridable fields. */

export const PRINCIPAL_ARN = 'arn:aws:iam::123456789012:user/Alice';
export const KMS_KEY_ARN = 'arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

export function requestMetadata(kmsOperation: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { awsPrincipalArn: PRINCIPAL_ARN, kmsKeyArn: KMS_KEY_ARN, kmsOperation, kmsRequestId: `req-${Math.random().toString(16).slice(2)}`, ...extra };
}

export function healthBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { requestMetadata: { kmsOperation: 'KmsHealthCheck', kmsRequestId: `health-${Math.random().toString(16).slice(2)}` }, ...overrides };
}

export function metadataBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { requestMetadata: { awsPrincipalArn: PRINCIPAL_ARN, kmsOperation: 'CreateKey', kmsRequestId: 'req-metadata' }, ...overrides };
}

export function encryptBody(plaintext: Buffer, options: { aad?: Buffer; cdiv?: boolean; extra?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    requestMetadata: requestMetadata('Encrypt'),
    plaintext: plaintext.toString('base64'),
    encryptionAlgorithm: 'AES_GCM',
    ...(options.aad ? { additionalAuthenticatedData: options.aad.toString('base64') } : {}),
    ...(options.cdiv ? { ciphertextDataIntegrityValueAlgorithm: 'SHA_256' } : {}),
    ...options.extra,
  };
}

export interface EncryptOutput {
  readonly ciphertext: string;
  readonly ciphertextMetadata?: string;
  readonly initializationVector: string;
  readonly authenticationTag: string;
  readonly ciphertextDataIntegrityValue?: string;
}

export function decryptBody(encrypted: EncryptOutput, options: { aad?: Buffer; extra?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    requestMetadata: requestMetadata('Decrypt'),
    ciphertext: encrypted.ciphertext,
    ...(encrypted.ciphertextMetadata !== undefined ? { ciphertextMetadata: encrypted.ciphertextMetadata } : {}),
    encryptionAlgorithm: 'AES_GCM',
    ...(options.aad ? { additionalAuthenticatedData: options.aad.toString('base64') } : {}),
    initializationVector: encrypted.initializationVector,
    authenticationTag: encrypted.authenticationTag,
    ...options.extra,
  };
}
