/**
 * The request bodies of the custom key store routes, as the handlers pass them on: the types of
 * their schemas (contract/key-schemas.ts), which checked them first. CloudHSM stores take the same
 * create and update bodies (cloudhsm-key-store-service.ts reads their CloudHSM fields).
 */
export type { CreateKeyStoreRequest, LinkKeyStoreRequest, UpdateKeyStoreRequest } from '../../contract/key-schemas';
