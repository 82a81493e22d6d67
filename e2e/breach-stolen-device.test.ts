/**
 * Breach drills (f) and (b) of issue 4: a device, stolen after it paid, holds K_dev alone (DESIGN.md "Split
 * custody", point 5), and K_dev alone opens no card.
 * - (f) After an enrollment and a payment, every record of the device's FileKeyStore (decrypted with its device
 *   secret, exported keys included) and the raw file hold no K_srv, no DEK (K_dev XOR K_srv, with K_srv opened
 *   from the pay server's row with the KEK), no sealed or opened card or profile record and no PAN.
 * - (b) A thief's wallet on a copy of that store (the file and its device secret: the device key signs for him)
 *   calls every payer route of the pay server, listed from /openapi.json, with plausible bodies: without a session
 *   every one is refused; with the payer's session (the messenger signed in on the stolen phone) but no PIN and no
 *   passkey, no answer holds K_srv or a sealed record — searched in clear, and inside any release the server
 *   encrypted to the thief's own one-time keys, which he opens.
 * One (b) drill is an expected failure: it found that the stolen device key alone adds a passkey of the thief's,
 * which the server then accepts to release the card (see the comment above that test).
 */
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combineShares } from "@mpay/crypto";
import type { ApprovalTerms } from "@mpay/protocol";
import { calculateJwkThumbprint, type JWK } from "jose";
import {
  loadDeviceKey,
  openRelease,
  openWithShares,
  PayClient,
  signStatement,
  signTerms,
  startPinLogin,
  startPinRegistration,
  finishPinRegistration,
  Wallet,
  isWalletError,
  type Card,
  type DeviceKey,
} from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { SoftwareAuthenticator } from "../services/pay/src/testing/software-authenticator.ts";
import { approvalChallengeOf } from "../services/pay/src/passkeys/service.ts";
import { findCard } from "../services/pay/src/vault/store.ts";
import { kSrvAad } from "../services/pay/src/vault/aad.ts";
import { CARDS, openBreachNetwork, PIN, type BreachNetwork, type BreachPayer } from "./support/breach-network.ts";
import { cardShareOf, readDeviceStore } from "./support/device-store.ts";
import { byteEncodings, findSecrets, panForms } from "./support/secret-search.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

const THIEF_PIN_GUESS = "000000";

interface Answer {
  route: string;
  status: number;
  text: string;
}

describe.each(systemBackends())("breach drills: a stolen device [%s]", (backend) => {
  let net: BreachNetwork;
  let victim: BreachPayer;
  let card: Card;
  /** What must never be recovered from the device or a route: the victim's K_srv, DEK, records and PAN. */
  let kSrv: Uint8Array;
  let kDev: Uint8Array;
  let sealedCard: string;
  let sealedProfile: string | null;
  let victimDeviceId: string;
  let victimApprovalId: string;

  beforeAll(async () => {
    net = await openBreachNetwork(backend, { issuers: ["sampo"] });
    victim = await net.newPayer("Kim Minji");
    const pending = await victim.wallet.startCardEnrollment(
      { pan: CARDS.sampo.pan, expiry: CARDS.sampo.expiry, cvc: CARDS.sampo.cvc, holderName: "KIM MINJI" },
      { profile: { name: "Kim Minji", phone: "+821099990000" } },
    );
    card = await pending.complete(await net.latestCode(CARDS.sampo.phone));
    const { approval, payment } = await victim.wallet.approvePayment(await net.newPayment(35000), {
      cardId: card.id,
      pin: PIN,
      confirm: async () => true,
    });
    expect(payment.status).toBe("authorized");
    victimApprovalId = approval.id;
    victimDeviceId = card.deviceId;

    // The test's own knowledge: K_srv from the pay server's row opened with the KEK, K_dev from the device store.
    const row = (await findCard(net.pay.system.database.db, card.id, victim.payerId))!;
    kSrv = await net.pay.system.keys.open("vault-k-srv", row.wrappedKSrv!, kSrvAad(row, row.kekVersion!));
    sealedCard = row.sealedCard!;
    sealedProfile = row.sealedProfile;
    kDev = await cardShareOf((await readDeviceStore(victim.storePath, victim.deviceSecret)).records, card.id);
  });
  afterAll(async () => {
    await net?.close();
  });

  /** The victim's card secrets in every encoding; K_dev is not among them (the device holds it, wrapped). */
  function cardSecrets(): Array<{ what: string; needles: string[] }> {
    return [
      { what: "K_srv", needles: byteEncodings(kSrv) },
      { what: "DEK", needles: byteEncodings(combineShares(kDev, kSrv)) },
      { what: "sealed card record", needles: [sealedCard, sealedCard.split(".").at(-1)!] },
      ...(sealedProfile
        ? [{ what: "sealed profile record", needles: [sealedProfile, sealedProfile.split(".").at(-1)!] }]
        : []),
      { what: "PAN", needles: panForms(CARDS.sampo.pan) },
      { what: "opened card record", needles: ["KIM MINJI", '"expiry":"12/31"'] },
      { what: "opened profile record", needles: ["+821099990000"] },
    ];
  }

  it("(f) leaves no K_srv, DEK, sealed or opened record and no PAN in the device store after a payment", async () => {
    const { file, records } = await readDeviceStore(victim.storePath, victim.deviceSecret);
    const places = [
      { where: "the raw key store file", text: file },
      ...records.map((r) => ({ where: `record ${r.name}`, text: r.plaintext })),
    ];
    // The reader sees what is there: the device key's private scalar and the wrapped share of the card.
    expect(places.some((p) => p.text.includes(victim.deviceKeyD))).toBe(true);
    expect(records.map((r) => r.name).sort()).toEqual(["card-share-wrapping-key", `card:${card.id}`, "device-key"]);
    expect(kDev).toHaveLength(32);
    expect(findSecrets(places, cardSecrets())).toEqual([]);
  });

  /** A thief's copy of the victim's device store: the file, and its device secret (on a phone: the keystore). */
  async function stolenStore(): Promise<{ store: FileKeyStore; key: DeviceKey }> {
    const copy = join(net.folder, "thief", `${randomBytes(4).toString("hex")}.json`);
    await mkdir(dirname(copy), { recursive: true });
    await copyFile(victim.storePath, copy);
    const store = new FileKeyStore(copy, victim.deviceSecret.slice());
    const key = await loadDeviceKey(store);
    if (!key) throw new Error("the copy holds no device key");
    return { store, key };
  }

  /** Every payer route of the pay server, from its OpenAPI document: `METHOD /path/{id}`. */
  async function payerRoutes(): Promise<string[]> {
    const doc = (await (await fetch(`${net.payUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    return Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/v1/payer/"))
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
  }

  async function send(route: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
    const [method] = route.split(" ") as [string];
    // The sign-in callback answers a redirect to the web wallet: what the thief reads is that answer, not the page.
    const response = await fetch(`${net.payUrl}${path}`, {
      method,
      redirect: "manual",
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    // A redirect's whole answer is its Location: searched like any body.
    const location = response.headers.get("location");
    return { route, status: response.status, text: location ? `location: ${location}` : await response.text() };
  }

  /**
   * Every answer as text, and whatever the server encrypted to the thief's own one-time keys, opened: the release's
   * K_srv and records, and the card they open together with the K_dev of the stolen store.
   */
  async function whatTheThiefReads(
    answers: readonly Answer[],
    releaseKeys: readonly CryptoKey[],
  ): Promise<Array<{ where: string; text: string }>> {
    const places = answers.map((a) => ({ where: `${a.route} → ${a.status}`, text: a.text }));
    const stolenShare = await cardShareOf(
      (await readDeviceStore(victim.storePath, victim.deviceSecret)).records,
      card.id,
    );
    for (const answer of answers) {
      if (!answer.text.startsWith("{")) continue;
      const release = (JSON.parse(answer.text) as { release?: unknown } | null)?.release;
      if (typeof release !== "string") continue;
      for (const oneTimeKey of releaseKeys) {
        const opened = await openRelease(release, oneTimeKey).catch(() => null);
        if (!opened) continue;
        const binding = {
          purpose: "card" as const,
          cardId: card.id,
          payerId: victim.payerId,
          deviceId: victimDeviceId,
          version: opened.payload.recordVersion,
        };
        const cardRecord = await openWithShares(stolenShare, opened.kSrv, binding, opened.payload.sealedCard).catch(
          () => null,
        );
        const text = [
          Buffer.from(opened.kSrv).toString("base64url"),
          JSON.stringify(opened.payload),
          cardRecord ? new TextDecoder().decode(cardRecord) : "",
        ].join(" ");
        places.push({ where: `${answer.route}: the release, opened with the thief's key`, text });
      }
    }
    return places;
  }

  it("(b) without the payer's session, a copy of the device store opens no payer route", async () => {
    const { key } = await stolenStore();
    const routes = await payerRoutes();
    expect(routes.length).toBeGreaterThan(20);
    const answers: Answer[] = [];
    for (const route of routes) {
      const path = route.split(" ")[1]!.replaceAll("{id}", card.id);
      // Signed by the stolen device key; a route whose schema wants another body refuses it before anything else.
      const body = route.startsWith("POST")
        ? {
            deviceSignature: await signStatement(key.privateKey, key.kid, {
              purpose: "add-passkey",
              payerId: victim.payerId,
            }),
          }
        : undefined;
      answers.push(await send(route, path, undefined, body));
    }
    // The messenger decides these (and the exchange, the wallet's verifier): no payer session is asked of them.
    const signIn = new Set([
      "POST /v1/payer/auth/start",
      "GET /v1/payer/auth/callback",
      "POST /v1/payer/auth/exchange",
    ]);
    expect(
      answers
        .filter((a) => !signIn.has(a.route) && a.status !== 400 && a.status !== 401)
        .map((a) => `${a.route} → ${a.status}`),
    ).toEqual([]);
    expect(
      answers.filter((a) => a.route.startsWith("GET") && !signIn.has(a.route)).every((a) => a.status === 401),
    ).toBe(true);
    expect(
      findSecrets(
        answers.map((a) => ({ where: a.route, text: a.text })),
        cardSecrets(),
      ),
    ).toEqual([]);
  });

  /** A one-time P-256 key of the thief's, for the server to release a card to; the private half is kept. */
  async function thiefReleaseKey(keep: CryptoKey[]): Promise<JsonWebKey> {
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    keep.push(pair.privateKey);
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
    return { kty, crv, x, y };
  }

  // Found by this drill and fixed: adding a passkey once needed only a statement signed by an active device, so the
  // device key in a stolen store made the thief a passkey of his own, the pay server approved with it and released
  // K_srv and the sealed records to him, and with the stolen K_dev he opened the card. Adding a passkey now also
  // needs a fresh PIN login for `add-passkey`, which the thief cannot finish.
  it("(b) a passkey added with the stolen device key alone does not get the card released", async () => {
    const { key } = await stolenStore();
    const token = victim.sessionToken;
    const authenticator = new SoftwareAuthenticator("http://localhost:4300");
    const releaseKeys: CryptoKey[] = [];
    const answers: Answer[] = [];
    const options = await send(
      "POST /v1/payer/passkeys/registration-options",
      "/v1/payer/passkeys/registration-options",
      token,
      {
        deviceSignature: await signStatement(key.privateKey, key.kid, {
          purpose: "add-passkey",
          payerId: victim.payerId,
        }),
      },
    );
    answers.push(options);
    expect(options.status).toBe(400); // no PIN proof, no passkey
    if (options.status === 200) {
      const registered = await send("POST /v1/payer/passkeys", "/v1/payer/passkeys", token, {
        response: authenticator.create(JSON.parse(options.text)),
      });
      answers.push(registered);
      const paymentId = await net.newPayment(42000);
      const challengeAnswer = await send(
        "POST /v1/payer/payments/{id}/approval-challenges",
        `/v1/payer/payments/${paymentId}/approval-challenges`,
        token,
        { deviceKey: key.kid, cardId: card.id },
      );
      answers.push(challengeAnswer);
      const challenge = JSON.parse(challengeAnswer.text) as { id: string; terms: ApprovalTerms };
      if (registered.status === 200 && challengeAnswer.status === 200) {
        answers.push(
          await send(
            "POST /v1/payer/approval-challenges/{id}/approve",
            `/v1/payer/approval-challenges/${challenge.id}/approve`,
            token,
            {
              deviceSignature: await signTerms(key.privateKey, key.kid, challenge.terms),
              releaseKey: await thiefReleaseKey(releaseKeys),
              verification: {
                method: "passkey",
                assertion: authenticator.get({ challenge: approvalChallengeOf(challenge.terms), rpId: "localhost" }),
              },
            },
          ),
        );
      }
    }
    expect(findSecrets(await whatTheThiefReads(answers, releaseKeys), cardSecrets())).toEqual([]);
  });

  it("(b) with the payer's session but no PIN or passkey, no payer route answers K_srv or a sealed record", async () => {
    const { store, key } = await stolenStore();
    const token = victim.sessionToken;
    const thief = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: store,
      client: new PayClient({ baseUrl: net.payUrl, sessionToken: token }),
      keyStretching: "memory-constrained",
    });
    const answers: Answer[] = [];
    /** The thief's one-time release keys: whatever the server encrypts to them, he reads. */
    const releaseKeys: CryptoKey[] = [];
    const releaseKey = () => thiefReleaseKey(releaseKeys);
    // The stolen device key signs, with statement nonces the thief asks for with the stolen session.
    const sign = async (statement: { purpose: string } & Record<string, string>) => {
      const nonce = (
        JSON.parse((await send("POST /v1/payer/statement-nonces", "/v1/payer/statement-nonces", token, {})).text) as {
          nonce: string;
        }
      ).nonce;
      return signStatement(key.privateKey, key.kid, { ...statement, nonce });
    };
    const payerId = victim.payerId;
    const newChallenge = async () => {
      const paymentId = await net.newPayment(42000);
      const answer = await send(
        "POST /v1/payer/payments/{id}/approval-challenges",
        `/v1/payer/payments/${paymentId}/approval-challenges`,
        token,
        { deviceKey: key.kid, cardId: card.id },
      );
      answers.push(answer);
      return { paymentId, ...(JSON.parse(answer.text) as { id: string; terms: ApprovalTerms }) };
    };
    const thiefRecord = async () => {
      const start = await startPinRegistration("135790", { keyStretching: "memory-constrained" });
      const response = JSON.parse(
        (
          await send("POST /v1/payer/pin/registration", "/v1/payer/pin/registration", token, {
            registrationRequest: start.registrationRequest,
          })
        ).text,
      ) as { registrationResponse: string };
      return (await finishPinRegistration(start.state, response.registrationResponse)).registrationRecord;
    };
    const authenticator = new SoftwareAuthenticator("http://localhost:4300");
    const ids: Record<string, string> = {};

    // Plausible requests per route: what a thief with the device key and the session would try. Routes that
    // destroy what later ones need (removing the card, revoking the device) come last.
    const attempts: Record<string, () => Promise<Array<{ path: string; body?: unknown }>>> = {
      "POST /v1/payer/auth/start": async () => [
        { path: "/v1/payer/auth/start", body: { codeChallenge: "c".repeat(43) } },
      ],
      "GET /v1/payer/auth/callback": async () => [{ path: "/v1/payer/auth/callback?code=stolen&state=stolen" }],
      "POST /v1/payer/auth/exchange": async () => [
        { path: "/v1/payer/auth/exchange", body: { code: `plc_${"s".repeat(43)}`, codeVerifier: "v".repeat(43) } },
      ],
      "POST /v1/payer/devices": async () => {
        const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
          "sign",
          "verify",
        ]);
        const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", publicKey);
        const jwk = { kty, crv, x, y };
        const thumbprint = await calculateJwkThumbprint(jwk as JWK);
        return [
          { path: "/v1/payer/devices", body: { publicKeyJwk: jwk, name: "Thief's phone" } },
          {
            path: "/v1/payer/devices",
            body: {
              publicKeyJwk: jwk,
              name: "Thief's phone",
              approval: await sign({ purpose: "bind-device", payerId, deviceKey: thumbprint }),
            },
          },
        ];
      },
      "POST /v1/payer/devices/{id}/cancel": async () => [
        {
          path: `/v1/payer/devices/${victimDeviceId}/cancel`,
          body: { signature: await sign({ purpose: "cancel-device", payerId, deviceId: victimDeviceId }) },
        },
      ],
      "POST /v1/payer/pending-changes/{id}/cancel": async () => [
        {
          path: `/v1/payer/pending-changes/${victimDeviceId}/cancel`,
          body: { pin: { loginId: "plg_guess", finishLoginRequest: randomBytes(64).toString("base64url") } },
        },
      ],
      "POST /v1/payer/pin": async () => [
        {
          path: "/v1/payer/pin",
          body: {
            registrationRecord: await thiefRecord(),
            deviceSignature: await sign({ purpose: "set-pin", payerId }),
          },
        },
      ],
      "POST /v1/payer/pin/registration": async () => [
        {
          path: "/v1/payer/pin/registration",
          body: {
            registrationRequest: (await startPinRegistration("135790", { keyStretching: "memory-constrained" }))
              .registrationRequest,
          },
        },
      ],
      "POST /v1/payer/pin/login": async () => {
        const challenge = await newChallenge();
        ids["challenge"] = challenge.id;
        const start = await startPinLogin(THIEF_PIN_GUESS, { keyStretching: "memory-constrained" });
        return [
          {
            path: "/v1/payer/pin/login",
            body: { startLoginRequest: start.startLoginRequest, purpose: `approval:${challenge.id}` },
          },
        ];
      },
      "POST /v1/payer/pin/login/finish": async () => [
        {
          path: "/v1/payer/pin/login/finish",
          body: { loginId: "plg_guess", finishLoginRequest: randomBytes(64).toString("base64url") },
        },
      ],
      "POST /v1/payer/pin/change": async () => [
        {
          path: "/v1/payer/pin/change",
          body: {
            loginId: "plg_guess",
            finishLoginRequest: randomBytes(64).toString("base64url"),
            registrationRecord: await thiefRecord(),
          },
        },
      ],
      "POST /v1/payer/pin/resets": async () => {
        // Without the card there is no cardholder check to send: the thief sends the device's word and junk.
        const record = await thiefRecord();
        const enrollment = "e30.e30.e30.e30.e30";
        const hash = (text: string) => createHash("sha256").update(text).digest("base64url");
        const deviceSignature = await sign({
          purpose: "reset-pin",
          payerId,
          issuerId: "sampo",
          recordHash: hash(record),
          enrollmentHash: hash(enrollment),
        });
        return [
          { path: "/v1/payer/pin/resets", body: { registrationRecord: record, deviceSignature } },
          {
            path: "/v1/payer/pin/resets",
            body: {
              issuerId: "sampo",
              enrollment,
              registrationRecord: record,
              deviceSignature: await sign({
                purpose: "reset-pin",
                payerId,
                issuerId: "sampo",
                recordHash: hash(record),
                enrollmentHash: hash(enrollment),
              }),
            },
          },
        ];
      },
      "POST /v1/payer/payments/{id}/approval-challenges": async () => {
        const paymentId = await net.newPayment(42000);
        return [
          {
            path: `/v1/payer/payments/${paymentId}/approval-challenges`,
            body: { deviceKey: key.kid, cardId: card.id },
          },
        ];
      },
      "POST /v1/payer/approval-challenges/{id}/approve": async () => {
        const challenge = await newChallenge();
        const deviceSignature = await signTerms(key.privateKey, key.kid, challenge.terms);
        const tries = [
          {
            method: "pin",
            loginId: "plg_guess",
            finishLoginRequest: randomBytes(64).toString("base64url"),
            challengeMac: randomBytes(32).toString("base64url"),
          },
          {
            method: "pin",
            loginId: ids["login"] ?? "plg_guess",
            finishLoginRequest: randomBytes(64).toString("base64url"),
            challengeMac: randomBytes(32).toString("base64url"),
          },
          {
            method: "passkey",
            assertion: {
              id: "bWFkZS11cA",
              rawId: "bWFkZS11cA",
              type: "public-key",
              clientExtensionResults: {},
              response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA" },
            },
          },
        ];
        return Promise.all(
          tries.map(async (verification) => ({
            path: `/v1/payer/approval-challenges/${challenge.id}/approve`,
            body: { deviceSignature, releaseKey: await releaseKey(), verification },
          })),
        );
      },
      "POST /v1/payer/passkeys/registration-options": async () => [
        {
          path: "/v1/payer/passkeys/registration-options",
          body: { deviceSignature: await sign({ purpose: "add-passkey", payerId }) },
        },
      ],
      "POST /v1/payer/passkeys": async () => {
        const options = answers.findLast(
          (a) => a.route === "POST /v1/payer/passkeys/registration-options" && a.status === 200,
        );
        if (!options) return [{ path: "/v1/payer/passkeys", body: { response: {} } }];
        return [{ path: "/v1/payer/passkeys", body: { response: authenticator.create(JSON.parse(options.text)) } }];
      },
      "POST /v1/payer/passkeys/{id}/revoke": async () => [
        { path: `/v1/payer/passkeys/${ids["passkey"] ?? "none"}/revoke`, body: {} },
      ],
      "POST /v1/payer/cards/enrollments": async () => [
        {
          path: "/v1/payer/cards/enrollments",
          body: {
            issuerId: "sampo",
            enrollment: "e30.e30.e30.e30.e30",
            deviceSignature: await sign({ purpose: "enroll-card", payerId, issuerId: "sampo" }),
          },
        },
      ],
      "POST /v1/payer/cards/enrollments/{id}/verify": async () => [
        { path: "/v1/payer/cards/enrollments/cen_none/verify", body: { code: "000000" } },
      ],
      "POST /v1/payer/approvals/{id}/authorize": async () => [
        { path: `/v1/payer/approvals/${victimApprovalId}/authorize`, body: { payment: "e30.e30.e30.e30.e30" } },
      ],
      "POST /v1/payer/cards/{id}/records": async () => [
        {
          path: `/v1/payer/cards/${card.id}/records`,
          body: {
            sealedCard: "r1.2.AAAAAAAAAAAAAAAA.AAAA",
            recordVersion: 2,
            kSrv: randomBytes(32).toString("base64url"),
            deviceSignature: await sign({
              purpose: "store-card-records",
              payerId,
              cardId: card.id,
              recordVersion: "2",
            }),
          },
        },
      ],
      "POST /v1/payer/cards/{id}/remove": async () => [
        {
          path: `/v1/payer/cards/${card.id}/remove`,
          body: { deviceSignature: await sign({ purpose: "remove-card", payerId, cardId: card.id }) },
        },
      ],
      "POST /v1/payer/devices/{id}/revoke": async () => [
        {
          path: `/v1/payer/devices/${victimDeviceId}/revoke`,
          body: { signature: await sign({ purpose: "revoke-device", payerId, deviceId: victimDeviceId }) },
        },
      ],
    };
    const last = [
      "POST /v1/payer/cards/{id}/records",
      "POST /v1/payer/cards/{id}/remove",
      "POST /v1/payer/devices/{id}/revoke",
    ];
    const first = [
      "POST /v1/payer/pin/login",
      "POST /v1/payer/pin/resets",
      "POST /v1/payer/passkeys/registration-options",
      "POST /v1/payer/passkeys",
    ];
    const routes = await payerRoutes();
    const ordered = [
      ...first.filter((r) => routes.includes(r)),
      ...routes.filter((r) => !first.includes(r) && !last.includes(r)),
      ...last.filter((r) => routes.includes(r)),
    ];

    // The wallet's own way in, too: the thief guesses the PIN once (a try is spent, nothing is released).
    const guess = await thief
      .approvePayment(await net.newPayment(42000), { cardId: card.id, pin: THIEF_PIN_GUESS, confirm: async () => true })
      .catch((error: unknown) => error);
    expect(isWalletError(guess, "pin_incorrect"), String(guess)).toBe(true);

    for (const route of ordered) {
      const plan =
        attempts[route] ??
        (async () => [
          { path: route.split(" ")[1]!.replaceAll("{id}", card.id), ...(route.startsWith("POST") ? { body: {} } : {}) },
        ]);
      for (const { path, body } of await plan()) {
        const answer = await send(route, path, token, body);
        answers.push(answer);
        if (route === "POST /v1/payer/pin/resets" && answer.status === 200)
          ids["reset"] = (JSON.parse(answer.text) as { id: string }).id;
        if (route === "POST /v1/payer/pin/login" && answer.status === 200)
          ids["login"] = (JSON.parse(answer.text) as { loginId: string }).loginId;
        if (route === "POST /v1/payer/passkeys" && answer.status === 200)
          ids["passkey"] = (JSON.parse(answer.text) as { id: string }).id;
      }
    }
    expect(new Set(answers.map((a) => a.route))).toEqual(new Set(routes));
    expect(findSecrets(await whatTheThiefReads(answers, releaseKeys), cardSecrets())).toEqual([]);
  });
});
