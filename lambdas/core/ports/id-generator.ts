/** Where new resource ids come from (injected so that tests can fix them). */
export interface IdGenerator {
  /** A new random resource id (a UUID). */
  newId(): string;
}
