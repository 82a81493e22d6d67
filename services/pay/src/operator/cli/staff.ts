/**
 * `mpay staff add`: the only way staff of the operator console are made. The temporary password is printed once,
 * here, and never stored in clear; TOTP is set up at the first sign-in.
 */
import type { PaySystem } from "../../system.ts";
import type { Out } from "./io.ts";

export const STAFF_USAGE = `  staff add --email EMAIL --name NAME --role admin|support
                                            a member of the operator console's staff; prints the temporary
                                            password once (admin: create and suspend merchants; support: read)`;

/** Runs the command, or answers -1 when it is not one of these. */
export async function staffCommand(
  command: string,
  values: Record<string, unknown>,
  system: PaySystem,
  out: Out,
): Promise<number> {
  if (command !== "staff add") return -1;
  const missing = ["email", "name", "role"].filter((o) => typeof values[o] !== "string");
  if (missing.length) throw new Error(`staff add needs ${missing.map((o) => `--${o}`).join(", ")}`);
  const { staff, temporaryPassword } = await system.staff.create({
    email: values["email"] as string,
    name: values["name"] as string,
    role: values["role"] as string,
    actor: "operator:cli",
  });
  const data = { id: staff.id, email: staff.email, role: staff.role, temporaryPassword: temporaryPassword.peek() };
  out.print(
    `staff ${data.id} (${data.role}): ${data.email}\ntemporary password ${data.temporaryPassword}\n(shown once; TOTP is set up at the first sign-in to the console)`,
    data,
  );
  return 0;
}
