import { SECRET_PREFIXES } from '../contract/env';

/** Secret names, under the kind's prefix (`SECRET_PREFIXES`, which the CDK scopes IAM grants to). */
export const secretNames = {
  xksCredential: (keyStoreId: string, credentialId: string): string => `${SECRET_PREFIXES.xks}${keyStoreId}/${credentialId}`,
  hsmPin: (partitionId: string): string => `${SECRET_PREFIXES.hsmPin}${partitionId}`,
  cloudHsmPassword: (keyStoreId: string): string => `${SECRET_PREFIXES.cloudHsmPassword}${keyStoreId}`,
} as const;
