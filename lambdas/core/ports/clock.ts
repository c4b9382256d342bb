/** The time services stamp records with (injected so that tests can fix it). */
export interface Clock {
  now(): Date;
}
