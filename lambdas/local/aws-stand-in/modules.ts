/**
 * Every module the stand-in loads, in order. Add a module here to add its operations (see
 * README.md in this folder, "Adding an operation").
 */
import { cloudHsmOperations } from './cloudhsm/cloudhsm-operations';
import { aliasOperations } from './kms/alias-operations';
import { cryptoOperations } from './kms/crypto-operations';
import { keyOperations } from './kms/key-operations';
import type { StandInModule } from './operation-registry';
import { stsOperations } from './sts/sts-operations';

export const STAND_IN_MODULES: readonly StandInModule[] = [stsOperations, keyOperations, aliasOperations, cryptoOperations, cloudHsmOperations];
