/**
 * The raw cost of the cryptography behind a payer's login and approval, measured on one thread of the bench
 * process, so that the throughput of the whole server can be read against it:
 *
 * - ECDSA P-256 verify with node:crypto (`crypto.verify`, a KeyObject parsed once): the floor for one device
 *   signature;
 * - ECDSA P-256 verify through jose `compactVerify` with the same cached KeyObject, which is what the pay server
 *   does (services/pay/src/approvals/terms-signature.ts): jose hands it to WebCrypto, which on Node 20 runs it on
 *   libuv's thread pool, so each call also pays a thread hop and a promise;
 * - the OPAQUE server's two steps of a login (`@serenity-kit/opaque` `server.startLogin` and `server.finishLogin`),
 *   on client messages made beforehand, so that only the server's work is timed.
 *
 * Each is run for about `seconds`; the rate "per core" is operations per second of this process's CPU time (all
 * its threads), so that time lost to other processes on a busy machine does not count; the wall-clock rate is
 * given too. Nothing else of the benchmark runs meanwhile.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { performance } from "node:perf_hooks";
import * as opaque from "@serenity-kit/opaque";
import { CompactSign, compactVerify } from "jose";
import { freshP256 } from "@mpay/crypto/fresh-key-pair";
import type { PinKeyStretching } from "@mpay/wallet";

export interface PrimitiveRate {
  /** Operations per CPU-second of this process: the rate of one core. */
  perCoreSecond: number;
  /** Operations per wall-clock second (lower when the machine was busy, or when the work waits on a thread). */
  perWallSecond: number;
  /** CPU microseconds per operation. */
  cpuMicroseconds: number;
  iterations: number;
}

export interface PrimitiveCosts {
  ecdsaVerifyNode: PrimitiveRate;
  ecdsaVerifyJose: PrimitiveRate;
  opaqueStartLogin: PrimitiveRate;
  opaqueFinishLogin: PrimitiveRate;
  /** One whole server side of a login (start + finish), from the two above. */
  opaqueLogin: { perCoreSecond: number; cpuMicroseconds: number };
  secondsEach: number;
}

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** Calls `step` in batches until `seconds` have passed (after a short warm-up), and returns its rate. */
export async function measure(seconds: number, step: (i: number) => unknown): Promise<PrimitiveRate> {
  const run = async (i: number) => {
    const result = step(i);
    if (result instanceof Promise) await result;
  };
  for (let i = 0; i < 50; i++) await run(i);
  const batch = 20;
  let iterations = 0;
  const cpu0 = cpuSeconds();
  const wall0 = performance.now();
  const until = wall0 + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < batch; i++) await run(iterations + i);
    iterations += batch;
  }
  const wall = (performance.now() - wall0) / 1000;
  const cpu = Math.max(cpuSeconds() - cpu0, 1e-6);
  return {
    perCoreSecond: iterations / cpu,
    perWallSecond: iterations / wall,
    cpuMicroseconds: (cpu / iterations) * 1e6,
    iterations,
  };
}

/** Signatures over distinct payloads of about the size of approval terms, made once. */
function signedMessages(count: number): { publicKey: KeyObject; messages: Array<{ data: Buffer; signature: Buffer }> } {
  const { privateKey } = freshP256();
  const publicKey = createPublicKey(privateKey);
  const messages = Array.from({ length: count }, (_, i) => {
    const data = Buffer.from(
      `{"amount":${1000 + i},"nonce":"${createHash("sha256").update(String(i)).digest("base64url")}","padding":"${"x".repeat(200)}"}`,
    );
    return { data, signature: sign("sha256", data, { key: privateKey, dsaEncoding: "ieee-p1363" }) };
  });
  return { publicKey, messages };
}

export async function measurePrimitives(keyStretching: PinKeyStretching, seconds = 1.5): Promise<PrimitiveCosts> {
  const samples = 64;

  const { publicKey, messages } = signedMessages(samples);
  const pick = <T>(list: T[], i: number) => list[i % list.length] as T;
  const ecdsaVerifyNode = await measure(seconds, (i) => {
    const m = pick(messages, i);
    if (!verify("sha256", m.data, { key: publicKey, dsaEncoding: "ieee-p1363" }, m.signature))
      throw new Error("ECDSA verify failed");
  });

  // Not generateKeyPairSync: jose 6 on Node 20 exports a KeyObject to a JWK, which can then deadlock (issue 11).
  const fresh = freshP256();
  const joseKeys = { privateKey: fresh.privateKey, publicKey: createPublicKey(fresh.privateKey) };
  const jwss = await Promise.all(
    messages.map((m) =>
      new CompactSign(m.data)
        .setProtectedHeader({ alg: "ES256", kid: "bench", typ: "mpay-approval+jws" })
        .sign(joseKeys.privateKey),
    ),
  );
  const ecdsaVerifyJose = await measure(seconds, (i) =>
    compactVerify(pick(jwss, i), joseKeys.publicKey, { algorithms: ["ES256"] }),
  );

  await opaque.ready;
  const serverSetup = opaque.server.createSetup();
  const users = Array.from({ length: 8 }, (_, i) => {
    const userIdentifier = `payer_bench_${i}`;
    const pin = String(100000 + i);
    const registration = opaque.client.startRegistration({ password: pin });
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup,
      userIdentifier,
      registrationRequest: registration.registrationRequest,
    });
    const { registrationRecord } = opaque.client.finishRegistration({
      password: pin,
      clientRegistrationState: registration.clientRegistrationState,
      registrationResponse,
      keyStretching,
    });
    return { userIdentifier, pin, registrationRecord };
  });
  // Per user: a client start, the server's answer to it and the client's finish (made once; finishLogin is a pure
  // function of the server's state and the client's message, so it can be repeated on the same pair).
  const logins = users.map((u) => {
    const start = opaque.client.startLogin({ password: u.pin });
    const server = opaque.server.startLogin({
      serverSetup,
      registrationRecord: u.registrationRecord,
      startLoginRequest: start.startLoginRequest,
      userIdentifier: u.userIdentifier,
    });
    const finish = opaque.client.finishLogin({
      password: u.pin,
      clientLoginState: start.clientLoginState,
      loginResponse: server.loginResponse,
      keyStretching,
    });
    if (!finish) throw new Error("OPAQUE client could not finish the login");
    return {
      ...u,
      startLoginRequest: start.startLoginRequest,
      serverLoginState: server.serverLoginState,
      finishLoginRequest: finish.finishLoginRequest,
    };
  });
  const opaqueStartLogin = await measure(seconds, (i) => {
    const l = pick(logins, i);
    opaque.server.startLogin({
      serverSetup,
      registrationRecord: l.registrationRecord,
      startLoginRequest: l.startLoginRequest,
      userIdentifier: l.userIdentifier,
    });
  });
  const opaqueFinishLogin = await measure(seconds, (i) => {
    const l = pick(logins, i);
    opaque.server.finishLogin({ serverLoginState: l.serverLoginState, finishLoginRequest: l.finishLoginRequest });
  });
  const loginMicroseconds = opaqueStartLogin.cpuMicroseconds + opaqueFinishLogin.cpuMicroseconds;
  return {
    ecdsaVerifyNode,
    ecdsaVerifyJose,
    opaqueStartLogin,
    opaqueFinishLogin,
    opaqueLogin: { perCoreSecond: 1e6 / loginMicroseconds, cpuMicroseconds: loginMicroseconds },
    secondsEach: seconds,
  };
}
