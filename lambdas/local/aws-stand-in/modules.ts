/**
 * Every module the stand-in loads, in order. Add a module here to add its operations (see
 * README.md in this folder, "Adding an operation").
 */
import { cloudHsmOperations } from './cloudhsm/cloudhsm-operations';
import type { StandInModule } from './operation-registry';

export const STAND_IN_MODULES: readonly StandInModule[] = [cloudHsmOperations];
