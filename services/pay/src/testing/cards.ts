/**
 * A card in the vault for tests of what comes after enrollment (approval, release, rotation, revocation): the row
 * the issuer's enrollment would leave, then the records and server share uploaded over HTTP exactly as the wallet
 * does (sealed with the wallet's own code). Enrollment through a real issuer is tested end to end elsewhere
 * (e2e/, and the issuer's own suite); this only saves those tests from needing an issuer host.
 */
import { newId } from "@mpay/protocol";
import { sealNewCard } from "@mpay/wallet";
import type { FastifyInstance } from "fastify";
import type { PaySystem } from "../system.ts";
import { insertCard } from "../vault/store.ts";
import { findByThumbprint } from "../devices/store.ts";
import type { TestDevice } from "./payer-device.ts";
import { call } from "./system.ts";

export interface TestCard {
  cardId: string;
  issuerId: string;
  cardRef: string;
  deviceId: string;
  /** The device's share (tests play the wallet). */
  kDev: Uint8Array;
  kSrv: string;
  sealedCard: string;
}

export const TEST_CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806", holderName: "KIM MINJI" };

export async function addTestCard(
  system: PaySystem,
  app: FastifyInstance,
  session: { token: string; payerId: string },
  device: TestDevice,
  issuerId = "sampo",
): Promise<TestCard> {
  const deviceRow = await findByThumbprint(system.database.db, device.kid);
  if (!deviceRow) throw new Error("bind the device first");
  const card = await insertCard(system.database.db, {
    id: newId("card"),
    payerId: session.payerId,
    deviceId: deviceRow.id,
    issuerId,
    cardRef: `cr_test_${newId("card").slice(5)}`,
    brand: "visa",
    last4: TEST_CARD.pan.slice(-4),
    expiryMonth: "2031-12",
    status: "awaiting_records",
  });
  const sealed = await sealNewCard(
    { cardId: card.id, payerId: session.payerId, deviceId: deviceRow.id, version: 1 },
    TEST_CARD,
    { name: "Kim Minji" },
  );
  const stored = await call(app, "POST", `/v1/payer/cards/${card.id}/records`, session.token, {
    sealedCard: sealed.sealedCard,
    sealedProfile: sealed.sealedProfile,
    recordVersion: 1,
    kSrv: sealed.kSrv,
    deviceSignature: await device.sign({
      purpose: "store-card-records",
      payerId: session.payerId,
      cardId: card.id,
      recordVersion: "1",
    }),
  });
  if (stored.status !== 200) throw new Error(`storing the card records failed: ${stored.raw}`);
  return {
    cardId: card.id,
    issuerId,
    cardRef: card.cardRef,
    deviceId: deviceRow.id,
    kDev: sealed.kDev,
    kSrv: sealed.kSrv,
    sealedCard: sealed.sealedCard,
  };
}

/** A one-time release key as the wallet makes it for a payment. */
export async function newReleaseKey(): Promise<{
  privateKey: CryptoKey;
  jwk: { kty: string; crv: string; x: string; y: string };
}> {
  const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { privateKey: pair.privateKey, jwk: { kty: kty!, crv: crv!, x: x!, y: y! } };
}
