/**
 * The demo's dashboard owner and console admin, as the pay server writes them on its first start on the embedded
 * database: `<dataDir>/demo-users.json` (`{ dashboard: {email, password, totpSecret}, console: {…} }`). Servers
 * from before that file kept only the dashboard owner, under `dashboard` in `<dataDir>/demo-merchant.json`: read
 * there when demo-users.json is not written, with no console admin.
 */
import { join } from "node:path";
import { z } from "zod";
import { readJson } from "../../scripts/network/files.ts";

const credentialsSchema = z.object({ email: z.string().email(), password: z.string().min(1), totpSecret: z.string() });
const demoUsersSchema = z.object({ dashboard: credentialsSchema, console: credentialsSchema });
const demoMerchantSchema = z.object({ dashboard: credentialsSchema });

/** A demo user's sign-in: email, password and the base32 TOTP seed of their authenticator. */
export type DemoCredentials = z.infer<typeof credentialsSchema>;

export interface DemoUsers {
  dashboard: DemoCredentials;
  /** Undefined from a server that writes only demo-merchant.json. */
  console: DemoCredentials | undefined;
}

/** The demo users of the pay server whose data folder is `payDataDir` (MPAY_DATA_DIR). */
export async function readDemoUsers(payDataDir: string): Promise<DemoUsers> {
  const usersFile = join(payDataDir, "demo-users.json");
  const users = await readJson(usersFile);
  if (users !== undefined) return demoUsersSchema.parse(users);
  const merchantFile = join(payDataDir, "demo-merchant.json");
  const merchant = await readJson(merchantFile);
  if (merchant === undefined) throw new Error(`neither ${usersFile} nor ${merchantFile} is written`);
  return { dashboard: demoMerchantSchema.parse(merchant).dashboard, console: undefined };
}
