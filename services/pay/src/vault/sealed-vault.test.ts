/**
 * A sealed vault (the shamir provider before its custodians' shares arrive) serves no card operation: storing a
 * card's records (K_srv cannot be wrapped) and approving a payment (nothing can be released) answer 503
 * `vault_sealed` and change nothing; after M shares the same requests work (issue 4: "Sealed vault refuses card
 * operations").
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealNewCard } from "@mpay/wallet";
import type { ShamirKeyProvider } from "../keys/shamir/shamir-provider.ts";
import { openPayProcess, type KeysTestProcess } from "../testing/pay-process.ts";
import { addTestCard } from "../testing/cards.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../testing/databases.ts";
import { bindAndSetPin, newTestDevice, statementNonce } from "../testing/payer-device.ts";
import { call, paymentBody, signedInPayer } from "../testing/system.ts";
import { insertCard } from "./store.ts";
import { newId } from "@mpay/protocol";
import { findByThumbprint } from "../devices/store.ts";

const PIN = "882031";

describe.each(testBackends())("a sealed vault refuses card operations [%s]", (backend) => {
  let database: FreshDatabase;
  let dir: string;
  let open: KeysTestProcess | undefined;

  beforeAll(async () => {
    database = await freshDatabase(backend);
    dir = await mkdtemp(join(tmpdir(), "mpay-sealed-"));
  });
  afterAll(async () => {
    await open?.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async () =>
    (open = await openPayProcess({
      keyProvider: "shamir",
      dataDir: dir,
      databaseUrl: database.url,
      embeddedDatabaseDir: backend === "pglite" ? join(dir, "db") : undefined,
    }));

  it("answers vault_sealed to storing records and to approving, changes nothing, and serves once unsealed", async () => {
    // The initializing process is unsealed: a payer, a device, a PIN and one card are made there.
    const first = await start();
    const shares = (await (first.system.keys as ShamirKeyProvider).initialize(3, 2)).peek();
    const merchant = await first.system.merchants.create({
      name: "Sealed Shop",
      allowedOrigins: ["https://shop.example"],
    });
    const session = await signedInPayer(first.system);
    const device = await newTestDevice(first.app, session.token);
    await bindAndSetPin(first.app, session, device, PIN);
    const card = await addTestCard(first.system, first.app, session, device);
    const deviceRow = await findByThumbprint(first.system.database.db, device.kid);
    const second = await insertCard(first.system.database.db, {
      id: newId("card"),
      payerId: session.payerId,
      deviceId: deviceRow!.id,
      issuerId: "sampo",
      cardRef: "cr_second",
      brand: "visa",
      last4: "0021",
      expiryMonth: "2031-12",
      status: "awaiting_records",
    });
    await first.close();

    // A restarted process is sealed.
    const p = await start();
    expect(p.system.keys.isSealed()).toBe(true);
    const sealed = await sealNewCard(
      { cardId: second.id, payerId: session.payerId, deviceId: deviceRow!.id, version: 1 },
      { pan: "5111000000000021", expiry: "12/31", cvc: "932" },
      undefined,
    );
    const storeSigned = async () =>
      call<{ error?: { code: string }; status?: string }>(
        p.app,
        "POST",
        `/v1/payer/cards/${second.id}/records`,
        session.token,
        {
          sealedCard: sealed.sealedCard,
          recordVersion: 1,
          kSrv: sealed.kSrv,
          // The first process is gone: the nonce comes from this one (the table is shared).
          deviceSignature: await device.sign({
            purpose: "store-card-records",
            payerId: session.payerId,
            cardId: second.id,
            recordVersion: "1",
            nonce: await statementNonce(p.app, session.token),
          }),
        },
      );
    const refusedStore = await storeSigned();
    expect([refusedStore.status, refusedStore.body.error?.code]).toEqual([503, "vault_sealed"]);

    const payment = await call<{ id: string }>(p.app, "POST", "/v1/payments", merchant.secretKey.peek(), paymentBody());
    const challenge = await call<{ id: string }>(
      p.app,
      "POST",
      `/v1/payer/payments/${payment.body.id}/approval-challenges`,
      session.token,
      { deviceKey: device.kid, cardId: card.cardId },
    );
    expect(challenge.status).toBe(200); // the terms need no key: showing them is harmless
    const login = await call<{ error?: { code: string } }>(p.app, "POST", "/v1/payer/pin/login", session.token, {
      startLoginRequest: "AAAA",
      purpose: `approval:${challenge.body.id}`,
    });
    expect([login.status, login.body.error?.code]).toEqual([503, "vault_sealed"]);
    expect((await call(p.app, "GET", "/v1/payer/pin", session.token)).body).toMatchObject({ triesLeft: 5 }); // no try spent
    const cards = await call<{ data: Array<{ id: string; status: string }> }>(
      p.app,
      "GET",
      "/v1/payer/cards",
      session.token,
    );
    expect(cards.body.data.map((c) => [c.id, c.status])).toEqual([
      [card.cardId, "active"],
      [second.id, "awaiting_records"],
    ]);

    // Two of three shares unseal it; the same requests now work.
    for (const share of shares.slice(0, 2))
      expect((await call(p.app, "POST", "/v1/vault/unseal", null, { share })).status).toBe(200);
    expect(p.system.keys.isSealed()).toBe(false);
    const stored = await storeSigned();
    expect([stored.status, stored.body.status]).toEqual([200, "active"]);
  });
});
