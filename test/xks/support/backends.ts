/**
 * The state backend the conformance suite runs on: the control-plane services over DynamoDB Local
 * (what the product does), provisioned the way an operator does it.
 */
import type { BackendFactory } from './conformance-env';
import { servicesBackend } from './services-backend';

export function conformanceBackend(): BackendFactory {
  return servicesBackend();
}
