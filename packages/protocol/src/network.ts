/**
 * The card network's trust anchors and what they certify besides issuers (DESIGN.md "Split custody", point 4;
 * issue 7, holes 2 and 6). A network root signs two kinds of certificate, each a JWS of its own `typ` so one never
 * passes for the other:
 * - an issuer's encryption key (issuer.ts, `issuerCertificateSchema`): wallets encrypt cards only to such keys;
 * - an acquirer's PIN-statement key (here): issuers accept a PIN statement only under such a key.
 *
 * The pay server carries the certificate of the key that signed a PIN statement inside the statement's protected
 * header (`STATEMENT_KEY_CERTIFICATE_HEADER`), so an issuer needs no URL to fetch keys from: it checks the
 * certificate against the roots it was configured with, then the statement against the certified key. During a
 * key rollover the old and the new key each carry their own certificate.
 */
import { z } from "zod";
import { ecPublicJwkSchema } from "./issuer.ts";

/** A card-network root public key, as a wallet build or an issuer's configuration carries it (never a private key). */
export const networkRootSchema = z.strictObject({
  kid: z.string().min(1).max(128),
  jwk: z.strictObject({
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    x: z.string().length(43),
    y: z.string().length(43),
  }),
  /** Who runs it (for messages). */
  name: z.string().min(1).max(100),
});

/** A roots file (`ISSUER_NETWORK_ROOTS_FILE`, the demo network's `demo-roots.json`): at least one root. */
export const networkRootsFileSchema = z.array(networkRootSchema).min(1).max(16);

/** Acquirer ids name a pay server operator on the network (`mpay`); issuers know the one their link belongs to. */
export const acquirerIdSchema = z.string().regex(/^[a-z][a-z0-9-]{1,31}$/);

/** The payload a network root signs for an acquirer's PIN-statement key (JWS `typ` statementKeyCertificate). */
export const statementKeyCertificateSchema = z.strictObject({
  acquirerId: acquirerIdSchema,
  /** The ES256 public key the acquirer signs PIN statements with. */
  jwk: ecPublicJwkSchema,
  /** Its RFC 7638 thumbprint: the `kid` of every statement it signs. */
  kid: z.string().min(1).max(64),
  nbf: z.number().int().nonnegative(),
  exp: z.number().int().nonnegative(),
});
export type StatementKeyCertificate = z.infer<typeof statementKeyCertificateSchema>;

/** The protected-header member of a PIN statement that carries its key's certificate (a compact JWS). */
export const STATEMENT_KEY_CERTIFICATE_HEADER = "cert";
