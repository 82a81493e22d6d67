/** What every service of one issuer shares: who it is, its keys, its database, its clock and its log. */
import type { Logger } from "pino";
import type { Db } from "./db/client.ts";
import type { IssuerKeys } from "./keys/issuer-keys.ts";

export interface IssuerCore {
  readonly id: string;
  /** The display name from the certificate. */
  readonly name: string;
  readonly db: Db;
  readonly keys: IssuerKeys;
  /** The clock (tests move it). */
  readonly now: () => Date;
  /** Already bound to `{ issuerId }`. */
  readonly log: Logger;
}
