/**
 * The pay server's signed statements toward the issuers (DESIGN.md "Split custody", point 3): with a PIN approval,
 * the issuer gets the pay server's statement that OPAQUE succeeded for this challenge and these terms, as 3-D
 * Secure's authentication value. The issuer trusts the signing key only through the card network's certificate of
 * it (issue 7, hole 6), which every statement carries in its protected header (`cert`): no issuer fetches a key
 * from a URL, so whoever answers at a URL gets nothing.
 *
 * The signer uses the newest key (statement-keys.ts) that holds a certificate valid now, the certificate that
 * lasts longest among its own. A key made by a rotation therefore signs only once its certificate is installed,
 * and the old key keeps signing until then: two certificates live side by side during a rollover. Keys are loaded
 * on first use, so a sealed vault (shamir) does not stop the server from starting. Installed certificates are
 * re-read every minute, so one installed with the CLI reaches every running process.
 */
import {
  JOSE_TYPES,
  STATEMENT_KEY_CERTIFICATE_HEADER,
  type PinStatement,
  type StatementKeyCertificate,
} from "@mpay/protocol";
import { signCompact } from "@mpay/crypto/node";
import type { Clock } from "@mpay/service-kit";
import canonicalize from "canonicalize";
import type { JWK } from "jose";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { KeyProvider } from "../keys/provider.ts";
import {
  checkCertificateForKeys,
  insertCertificate,
  installedCertificates,
  type InstalledCertificate,
} from "./statement-key-certificates.ts";
import { rotateStatementKey, statementKeys, type StatementKey } from "./statement-keys.ts";

const CERTIFICATES_TTL_MS = 60_000;

export interface StatementKeyStatus {
  keys: Array<{
    generation: number;
    kid: string;
    jwk: StatementKey["publicJwk"];
    certificates: Array<{
      acquirerId: string;
      notBefore: string;
      notAfter: string;
      validNow: boolean;
      certificate: string;
    }>;
  }>;
  /** The key statements are signed with now; null → PIN payments cannot be vouched for. */
  signingKid: string | null;
}

export class StatementSigner {
  #keys: Promise<StatementKey[]> | undefined;
  #certificates: { at: number; rows: Promise<InstalledCertificate[]> } | undefined;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    /** The `iss` of every statement: this server's public URL. */
    readonly issuer: string,
    private readonly clock: Clock,
  ) {}

  async signPinStatement(statement: Omit<PinStatement, "iss" | "method">): Promise<string> {
    const signing = await this.#signing();
    if (!signing) {
      throw new ApiError(
        "statement_key_not_certified",
        "The pay server cannot vouch for PIN approvals to card issuers right now; the payment was not sent. Try again later.",
      );
    }
    const payload: PinStatement = { iss: this.issuer, method: "pin", ...statement };
    // node:crypto with the key's KeyObject (issue 11), the header as jose wrote it: { alg, typ, kid, cert }.
    return signCompact(canonicalize(payload) as string, signing.key.privateKey, {
      typ: JOSE_TYPES.pinStatement,
      kid: signing.key.kid,
      [STATEMENT_KEY_CERTIFICATE_HEADER]: signing.certificate,
    });
  }

  /** The public halves, as a JWK Set: for anyone to look at. Issuers trust a key only through its certificate. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return {
      keys: (await this.#loadKeys()).map((key) => ({ ...key.publicJwk, kid: key.kid, alg: "ES256", use: "sig" })),
    };
  }

  /** Every key with its certificates, and which one signs now (`mpay statement-key show`). */
  async status(): Promise<StatementKeyStatus> {
    const [keys, certificates, signing] = [
      await this.#loadKeys(),
      await this.#loadCertificates(),
      await this.#signing(),
    ];
    const now = this.clock.now().getTime();
    return {
      keys: keys.map((key) => ({
        generation: key.generation,
        kid: key.kid,
        jwk: key.publicJwk,
        certificates: certificates
          .filter((c) => c.kid === key.kid)
          .map((c) => ({
            acquirerId: c.acquirerId,
            notBefore: c.notBefore.toISOString(),
            notAfter: c.notAfter.toISOString(),
            validNow: c.notBefore.getTime() <= now && now < c.notAfter.getTime(),
            certificate: c.certificate,
          })),
      })),
      signingKid: signing?.key.kid ?? null,
    };
  }

  /** Installs the network's certificate of one of this server's keys (`mpay statement-key install`). */
  async install(certificate: string): Promise<StatementKeyCertificate> {
    const content = checkCertificateForKeys(certificate.trim(), await this.#loadKeys(), this.clock.now());
    await insertCertificate(this.db, certificate.trim(), content);
    this.#certificates = undefined;
    return content;
  }

  /** Makes the next key (`mpay statement-key rotate`); the current one keeps signing until the new one is certified. */
  async rotate(): Promise<StatementKey> {
    const key = await rotateStatementKey(this.db, this.keys);
    this.#keys = undefined;
    return key;
  }

  async #signing(): Promise<{ key: StatementKey; certificate: string } | null> {
    const certificates = await this.#loadCertificates();
    let keys = await this.#loadKeys();
    // A key rotated and certified by another process since this one loaded its keys.
    if (certificates.some((c) => !keys.some((k) => k.kid === c.kid))) {
      this.#keys = undefined;
      keys = await this.#loadKeys();
    }
    const now = this.clock.now().getTime();
    for (const key of [...keys].reverse()) {
      const valid = certificates.filter(
        (c) => c.kid === key.kid && c.notBefore.getTime() <= now && now < c.notAfter.getTime(),
      );
      const longest = valid.sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime())[0];
      if (longest) return { key, certificate: longest.certificate };
    }
    return null;
  }

  #loadKeys(): Promise<StatementKey[]> {
    const loading = (this.#keys ??= statementKeys(this.db, this.keys));
    loading.catch(() => {
      if (this.#keys === loading) this.#keys = undefined;
    });
    return loading;
  }

  #loadCertificates(): Promise<InstalledCertificate[]> {
    if (!this.#certificates || Date.now() - this.#certificates.at > CERTIFICATES_TTL_MS) {
      const rows = installedCertificates(this.db);
      const entry = { at: Date.now(), rows };
      this.#certificates = entry;
      rows.catch(() => {
        if (this.#certificates === entry) this.#certificates = undefined;
      });
    }
    return this.#certificates.rows;
  }
}
