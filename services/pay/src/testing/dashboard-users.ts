/** Dashboard users for tests: made through the service, signed in through the HTTP sign-in like the dashboard. */
import { Secret } from "@mpay/protocol";
import type { Clock } from "@mpay/service-kit";
import type { MerchantRole } from "../http/caller.ts";
import { call, type TestPay } from "./system.ts";
import { currentCode } from "../credentials/totp.ts";

export interface TestUser {
  id: string;
  email: string;
  password: string;
  totpSecret: string;
  token: string;
}

let counter = 0;

/** A new user of `merchantId` with `role`, signed in (TOTP set up at first sign-in); its session token. */
export async function signedInUser(
  t: TestPay,
  merchantId: string,
  role: MerchantRole,
  clock: Clock = t.config.clock,
): Promise<TestUser> {
  counter += 1;
  const email = `${role}-${counter}-${Date.now()}@shop.example`;
  const password = `correct horse ${counter}`;
  const { user } = await t.system.merchantUsers.create({
    merchantId,
    email,
    name: `${role} ${counter}`,
    role,
    actor: "operator:test",
    password: new Secret(password),
  });
  const challenge = await call<{ challenge: string; factor: string; totpSetup: { secret: string } }>(
    t.app,
    "POST",
    "/v1/dashboard/sign-in",
    null,
    { email, password },
  );
  if (challenge.status !== 200 || challenge.body.factor !== "totp_setup")
    throw new Error(`sign-in of a new user answered ${challenge.status} ${challenge.raw}`);
  const totpSecret = challenge.body.totpSetup.secret;
  const session = await call<{ token: string }>(t.app, "POST", "/v1/dashboard/sign-in/totp", null, {
    challenge: challenge.body.challenge,
    code: currentCode(totpSecret, clock.now()),
  });
  if (session.status !== 200) throw new Error(`TOTP step answered ${session.status} ${session.raw}`);
  return { id: user.id, email, password, totpSecret, token: session.body.token };
}
