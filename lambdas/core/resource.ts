/**
 * What every CCKM resource carries (the envelope `id`, `uri`, `account`, `application`, `devAccount`, `createdAt`, `updatedAt`).
 * Services stamp it with the clock and id generator ports (ports/clock.ts, ports/id-generator.ts).
 */

/** The CCKM tenant every resource belongs to (a single-tenant deployment). */
export const CCKM_ACCOUNT = 'kylo:kylo:admin:accounts:kylo';
/** The application and developer account every CCKM resource names (the seeds' values: clients compare them). */
export const CCKM_APPLICATION = 'ncryptify:gemalto:admin:apps:kylo';
export const CCKM_DEV_ACCOUNT = 'ncryptify:gemalto:admin:accounts:gemalto';

export interface ResourceEnvelope {
  readonly id: string;
  /** `kylo:kylo:cckm:<type>:<id>`. */
  readonly uri: string;
  readonly account: string;
  readonly application: string;
  readonly devAccount: string;
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
  return {
    id,
    uri: `kylo:kylo:cckm:${type}:${id}`,
    account: CCKM_ACCOUNT,
    application: CCKM_APPLICATION,
    devAccount: CCKM_DEV_ACCOUNT,
    createdAt: timestamps.createdAt,
    updatedAt: timestamps.updatedAt,
  };
}
