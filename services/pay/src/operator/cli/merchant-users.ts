/**
 * `mpay merchant user add`: the operator adds a merchant's first dashboard user (usually its owner; owners add the
 * rest in the dashboard). The temporary password is printed once, here, and never stored in clear; the user sets up
 * TOTP at the first sign-in.
 */
import type { PaySystem } from "../../system.ts";
import type { Out } from "./io.ts";

export const MERCHANT_USER_USAGE = `  merchant user add --merchant ID --email EMAIL --name NAME --role owner|developer|support
                                            a dashboard user; prints the temporary password once`;

/** Runs the command, or answers -1 when it is not one of these. */
export async function merchantUserCommand(
  command: string,
  values: Record<string, unknown>,
  system: PaySystem,
  out: Out,
): Promise<number> {
  if (command !== "merchant user add") return -1;
  const missing = ["merchant", "email", "name", "role"].filter((o) => typeof values[o] !== "string");
  if (missing.length) throw new Error(`merchant user add needs ${missing.map((o) => `--${o}`).join(", ")}`);
  const { user, temporaryPassword } = await system.merchantUsers.create({
    merchantId: values["merchant"] as string,
    email: values["email"] as string,
    name: values["name"] as string,
    role: values["role"] as string,
    actor: "operator:cli",
  });
  const data = {
    id: user.id,
    merchantId: user.merchantId,
    email: user.email,
    role: user.role,
    temporaryPassword: temporaryPassword.peek(),
  };
  out.print(
    `dashboard user ${data.id} (${data.role}) of ${data.merchantId}: ${data.email}\ntemporary password ${data.temporaryPassword}\n(shown once; TOTP is set up at the first sign-in)`,
    data,
  );
  return 0;
}
