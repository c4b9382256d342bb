/**
 * Every module the stand-in loads, in order. Add a module here to add its operations (see
 * README.md in this folder, "Adding an operation").
 */
import { cloudHsmOperations } from './cloudhsm/cloudhsm-operations';
import { aliasOperations } from './kms/alias-operations';
import { asymmetricOperations } from './kms/asymmetric-operations';
import { cloudHsmKeyStores } from './kms/cloudhsm-key-store-type';
import { importOperations } from './kms/import-operations';
import { cryptoOperations } from './kms/crypto-operations';
import { customKeyStoreOperations } from './kms/custom-key-store-operations';
import { externalKeyStores } from './kms/external-key-store-type';
import { keyOperations } from './kms/key-operations';
import type { StandInModule } from './operation-registry';
import { stsOperations } from './sts/sts-operations';

export const STAND_IN_MODULES: readonly StandInModule[] = [stsOperations, keyOperations, aliasOperations, cryptoOperations, customKeyStoreOperations, externalKeyStores, importOperations, asymmetricOperations, cloudHsmOperations, cloudHsmKeyStores];
