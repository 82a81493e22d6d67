/**
 * `npm run demo -- totp`: the current sign-in codes of the demo people the pay server made on its first start, from
 * the TOTP seeds it wrote into demo-users.json (mode 0600): the demo merchant's dashboard owner and the operator
 * console's demo admin. `npm run demo -- totp dashboard` or `-- totp console` gives one of them. The seeds and the
 * passwords are never printed: only the codes, each good for the rest of its 30 seconds.
 */
import { Secret, TOTP } from "otpauth";
import { DemoError, demoUsersFile, loadDemoConfig, readDemoUsers, type DemoSignIn } from "./config.ts";
import { line } from "./print.ts";

/** Who `npm run demo -- totp <who>` may name, and how each is labelled. */
export const TOTP_PEOPLE = {
  dashboard: { label: "Merchant dashboard", path: "/dashboard" },
  console: { label: "Operator console", path: "/console" },
} as const;
export type TotpPerson = keyof typeof TOTP_PEOPLE;

export function isTotpPerson(value: string): value is TotpPerson {
  return Object.hasOwn(TOTP_PEOPLE, value);
}

/** The code of a base32 seed at `now` (SHA-1, 6 digits, 30 s: what the dashboard and the console accept). */
export function totpCode(totpSecret: string, now: Date): string {
  const generator = new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(totpSecret) });
  return generator.generate({ timestamp: now.getTime() });
}

/** The lines `npm run demo -- totp` prints: one per demo person asked for, labelled. */
export function totpLines(
  people: Partial<Record<TotpPerson, DemoSignIn>>,
  who: readonly TotpPerson[],
  where: { webUrl: string; file: string },
  now: Date,
): string[] {
  const left = 30 - (Math.floor(now.getTime() / 1000) % 30);
  const width = Math.max(...who.map((person) => TOTP_PEOPLE[person].label.length));
  const lines = who.flatMap((person) => {
    const signIn = people[person];
    const { label, path } = TOTP_PEOPLE[person];
    return signIn
      ? `${label.padEnd(width)}  ${totpCode(signIn.totpSecret, now)}  ${signIn.email} at ${where.webUrl}${path}`
      : `${label.padEnd(width)}  none: no demo sign-in for it in ${where.file}`;
  });
  return [...lines, `(each code is good for ${left} more seconds, once; the passwords are in ${where.file})`];
}

export async function totp(args: readonly string[] = [], now: Date = new Date()): Promise<void> {
  const [asked] = args;
  if (args.length > 1 || (asked !== undefined && !isTotpPerson(asked)))
    throw new DemoError(
      `unknown sign-in ${JSON.stringify(args.join(" ").slice(0, 40))}: npm run demo -- totp (both), npm run demo -- totp dashboard or npm run demo -- totp console`,
    );
  const config = loadDemoConfig();
  const file = demoUsersFile(config);
  const people = await readDemoUsers(config);
  const who: TotpPerson[] = asked ? [asked] : ["dashboard", "console"];
  const missing = who.filter((person) => !people[person]);
  if (missing.length === who.length)
    throw new DemoError(
      `no demo ${missing.join(" or ")} sign-in in ${file}: the pay server makes them on its start on the embedded database (npm start)`,
    );
  for (const text of totpLines(people, who, { webUrl: config.webUrl, file }, now)) line(text);
}
