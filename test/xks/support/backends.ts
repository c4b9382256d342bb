/** The state backend the conformance suite runs on. */
import type { BackendFactory } from './conformance-env';
import { memoryBackend } from './memory-backend';

export function conformanceBackend(): BackendFactory {
  return memoryBackend;
}
