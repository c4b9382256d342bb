/**
 * What every CCKM resource carries (the envelope `id`, `uri`, `account`, `createdAt`, `updatedAt`).
 * Services stamp it with the clock and id generator ports (ports/clock.ts, ports/id-generator.ts).
 */

/** The CCKM tenant every resource belongs to (a single-tenant deployment). */
export const CCKM_ACCOUNT = 'kylo:kylo:admin:accounts:kylo';

export interface ResourceEnvelope {
  readonly id: string;
  /** `kylo:kylo:cckm:<type>:<id>`. */
  readonly uri: string;
  readonly account: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Timestamps kept in every stored record (ISO 8601, UTC). */
export interface Timestamps {
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The envelope of a resource of CCKM type `type` (e.g. `aws_kms`, `hsm_partition`). */
export function envelope(type: string, id: string, timestamps: Timestamps): ResourceEnvelope {
  return { id, uri: `kylo:kylo:cckm:${type}:${id}`, account: CCKM_ACCOUNT, createdAt: timestamps.createdAt, updatedAt: timestamps.updatedAt };
}
