/**
 * A payer's device as the issuer sees it, for tests: a P-256 device key (kid = RFC 7638 thumbprint), and the JWEs
 * the wallet makes with packages/crypto: enrollment, sign-then-encrypt payments, and card-on-file mandates.
 */
import { randomBytes } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { encryptTo, signWith } from "@mpay/crypto";
import {
  JOSE_TYPES,
  type ApprovalTerms,
  type EcPublicJwk,
  type IssuerCertificate,
  type MandateTerms,
} from "@mpay/protocol";

export interface CardInput {
  pan: string;
  expiry: string;
  cvc: string;
}

export class TestDevice {
  private constructor(
    readonly privateKey: CryptoKey,
    readonly publicJwk: EcPublicJwk,
    readonly kid: string,
  ) {}

  static async create(): Promise<TestDevice> {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const { x, y } = await exportJWK(publicKey);
    const publicJwk: EcPublicJwk = { kty: "EC", crv: "P-256", x: x!, y: y! };
    return new TestDevice(privateKey, publicJwk, await calculateJwkThumbprint(publicJwk, "sha256"));
  }

  /** The enrollment JWE: `{ pan, expiry, cvc, deviceKey, passkeys?, iat }` to the issuer's certified key. */
  enrollment(
    certificate: IssuerCertificate,
    card: CardInput,
    options: { passkeys?: Array<{ id: string; publicKey: string }>; iat: number },
  ): Promise<string> {
    const payload = {
      pan: card.pan,
      expiry: card.expiry,
      cvc: card.cvc,
      deviceKey: this.publicJwk,
      ...(options.passkeys ? { passkeys: options.passkeys } : {}),
      iat: options.iat,
    };
    return encryptTo(
      new TextEncoder().encode(JSON.stringify(payload)),
      { ...certificate.jwk },
      { typ: JOSE_TYPES.enrollment, kid: certificate.kid },
    );
  }

  /** Sign-then-encrypt: a JWS (ES256, this key) over `{ terms, card }` inside a JWE to the issuer. */
  async payment(
    certificate: IssuerCertificate,
    terms: ApprovalTerms,
    card: { pan: string; expiry: string },
  ): Promise<string> {
    const jws = await signWith(
      new TextEncoder().encode(JSON.stringify({ terms, card: { pan: card.pan, expiry: card.expiry } })),
      this.privateKey,
      { typ: JOSE_TYPES.payment, kid: this.kid },
    );
    return encryptTo(
      new TextEncoder().encode(jws),
      { ...certificate.jwk },
      { typ: JOSE_TYPES.paymentEnvelope, kid: certificate.kid },
    );
  }

  async mandate(
    certificate: IssuerCertificate,
    mandate: MandateTerms,
    card: { pan: string; expiry: string },
  ): Promise<string> {
    const jws = await signWith(
      new TextEncoder().encode(JSON.stringify({ mandate, card: { pan: card.pan, expiry: card.expiry } })),
      this.privateKey,
      { typ: JOSE_TYPES.mandate, kid: this.kid },
    );
    return encryptTo(
      new TextEncoder().encode(jws),
      { ...certificate.jwk },
      { typ: JOSE_TYPES.mandateEnvelope, kid: certificate.kid },
    );
  }
}

export function newNonce(): string {
  return randomBytes(16).toString("base64url");
}
