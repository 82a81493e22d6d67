/**
 * The connector registry (issue 12: issuers on their own hosts): each card company may be its own process at its
 * own URL with its own acquirer secret and timeout; the rest are reached at the default host (the embedded
 * simulator of `npm start`, which serves every issuer it lists). Calls go to the issuer's own host; the listing
 * merges what the hosts answer, so one host down leaves its issuers out of the listing, not the others.
 */
import { IssuerError, type IssuerConnector, type IssuerListing } from "./connector.ts";

/** Listings that lack a host that did not answer: the service keeps them only briefly (service.ts). */
export const PARTIAL_LISTINGS = new WeakSet<IssuerListing[]>();

export class IssuerRegistry implements IssuerConnector {
  readonly name = "registry";

  constructor(
    /** Issuers with a host of their own. */
    private readonly own: ReadonlyMap<string, IssuerConnector>,
    /** Every other issuer; null when each issuer has its own host. */
    private readonly fallback: IssuerConnector | null,
  ) {}

  /** The issuers with a host of their own (for the breaker gauge and the operator's view). */
  get ownIssuers(): string[] {
    return [...this.own.keys()];
  }

  async listIssuers(): Promise<IssuerListing[]> {
    const hosts: Array<{ connector: IssuerConnector; keep: (id: string) => boolean }> = [
      ...[...this.own].map(([issuerId, connector]) => ({ connector, keep: (id: string) => id === issuerId })),
      ...(this.fallback ? [{ connector: this.fallback, keep: (id: string) => !this.own.has(id) }] : []),
    ];
    const answers = await Promise.allSettled(hosts.map((host) => host.connector.listIssuers()));
    const listing: IssuerListing[] = [];
    let failure: unknown;
    answers.forEach((answer, i) => {
      if (answer.status === "rejected") failure ??= answer.reason;
      // A host lists what it serves; an issuer configured elsewhere is that host's to list.
      else listing.push(...answer.value.filter((issuer) => hosts[i]!.keep(issuer.issuerId)));
    });
    if (failure !== undefined) {
      if (listing.length === 0) throw failure;
      PARTIAL_LISTINGS.add(listing);
    }
    return listing;
  }

  enroll: IssuerConnector["enroll"] = (issuerId, ...a) => this.#of(issuerId).enroll(issuerId, ...a);
  verifyEnrollment: IssuerConnector["verifyEnrollment"] = (issuerId, ...a) =>
    this.#of(issuerId).verifyEnrollment(issuerId, ...a);
  authorize: IssuerConnector["authorize"] = (issuerId, ...a) => this.#of(issuerId).authorize(issuerId, ...a);
  capture: IssuerConnector["capture"] = (issuerId, ...a) => this.#of(issuerId).capture(issuerId, ...a);
  void: IssuerConnector["void"] = (issuerId, ...a) => this.#of(issuerId).void(issuerId, ...a);
  refund: IssuerConnector["refund"] = (issuerId, ...a) => this.#of(issuerId).refund(issuerId, ...a);
  inquire: IssuerConnector["inquire"] = (issuerId, ...a) => this.#of(issuerId).inquire(issuerId, ...a);
  unbindDevice: IssuerConnector["unbindDevice"] = (issuerId, ...a) => this.#of(issuerId).unbindDevice(issuerId, ...a);
  createRecurringToken: IssuerConnector["createRecurringToken"] = (issuerId, ...a) =>
    this.#of(issuerId).createRecurringToken(issuerId, ...a);
  revokeRecurringToken: IssuerConnector["revokeRecurringToken"] = (issuerId, ...a) =>
    this.#of(issuerId).revokeRecurringToken(issuerId, ...a);

  #of(issuerId: string): IssuerConnector {
    const connector = this.own.get(issuerId) ?? this.fallback;
    if (!connector) throw new IssuerError("refused", "issuer_unknown", "no host is configured for this issuer", 404);
    return connector;
  }
}
