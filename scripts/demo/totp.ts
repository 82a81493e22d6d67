/**
 * `npm run demo -- totp`: the current sign-in code of the demo merchant's dashboard owner, from the TOTP seed the
 * pay server wrote into the demo merchant's file (mode 0600) on its first start. The seed and the password are
 * never printed: only the code, which is good for the rest of its 30 seconds.
 */
import { readFile } from "node:fs/promises";
import { Secret, TOTP } from "otpauth";
import { z } from "zod";
import { DemoError, demoMerchantFile, loadDemoConfig } from "./config.ts";
import { line } from "./print.ts";

const dashboardSchema = z.object({
  dashboard: z.object({ email: z.string(), password: z.string(), totpSecret: z.string() }),
});

export async function totp(now: Date = new Date()): Promise<void> {
  const file = demoMerchantFile(loadDemoConfig());
  let parsed: z.infer<typeof dashboardSchema>;
  try {
    parsed = dashboardSchema.parse(JSON.parse(await readFile(file, "utf8")));
  } catch {
    throw new DemoError(
      `no demo dashboard owner in ${file}: the pay server adds one on its start on the embedded database (npm start)`,
    );
  }
  const generator = new TOTP({
    algorithm: "SHA1",
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(parsed.dashboard.totpSecret),
  });
  const code = generator.generate({ timestamp: now.getTime() });
  const left = 30 - (Math.floor(now.getTime() / 1000) % 30);
  line(`${code}  (${parsed.dashboard.email}; good for ${left} more seconds, once; password in ${file})`);
}
