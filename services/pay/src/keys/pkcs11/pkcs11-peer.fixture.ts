/**
 * Another process on the same token, for pkcs11-provider.test.ts. It reads commands from stdin, one JSON array a
 * line, and answers each with one JSON line, `{ "out": … }` or `{ "error": "<code>: <message>" }`:
 * `["open", blob, aad]` answers the plaintext, `["seal", text, aad]` a blob, `["rotate"]` the new version.
 * One process serves a whole test file, since starting one (tsx, the pay server's modules, PGlite) takes seconds.
 *
 * Each command opens a provider of its own and closes it after: the library is initialised anew (the module is
 * finalised when its last session closes) and reads the token as a new process would. The process has its own
 * (empty) database, so its current version is the token's highest, as for a process whose database record is not
 * yet written; only `rotate` writes a record there.
 * Run with SOFTHSM2_CONF and MPAY_PKCS11_TOKEN_LABEL / MPAY_PKCS11_PIN in the environment.
 */
import { createInterface } from "node:readline";
import { Secret } from "@mpay/protocol";
import { migrateDatabase, openDatabase, type Database } from "../../db/client.ts";
import { KeyProviderError } from "../provider.ts";
import { openPkcs11KeyProvider } from "./pkcs11-provider.ts";
import { DEFAULT_PKCS11_LIBRARY, DEFAULT_PKCS11_TOKEN_LABEL, type Pkcs11Settings } from "./pkcs11-token.ts";

// The same variables the pay server reads (config.ts), read here so the key providers import nothing above them.
const env = process.env;
const settings: Pkcs11Settings = {
  library: env["MPAY_PKCS11_LIBRARY"] || DEFAULT_PKCS11_LIBRARY,
  slot: env["MPAY_PKCS11_SLOT"] ? Number(env["MPAY_PKCS11_SLOT"]) : undefined,
  tokenLabel: env["MPAY_PKCS11_TOKEN_LABEL"] || DEFAULT_PKCS11_TOKEN_LABEL,
  pin: env["MPAY_PKCS11_PIN"] ? new Secret(env["MPAY_PKCS11_PIN"]) : undefined,
};

async function run(database: Database, [command, first, aad]: string[]): Promise<string> {
  const keys = await openPkcs11KeyProvider(settings, database.db);
  try {
    if (command === "open") return Buffer.from(await keys.open("provider-secret", first ?? "", aad ?? "")).toString();
    if (command === "seal") return await keys.seal("provider-secret", Buffer.from(first ?? ""), aad ?? "");
    if (command === "rotate") return String(await keys.rotate());
    throw new Error(`unknown command ${command}`);
  } finally {
    await keys.close();
  }
}

const database = await openDatabase({});
try {
  await migrateDatabase(database);
  for await (const line of createInterface({ input: process.stdin })) {
    const answer = await run(database, JSON.parse(line) as string[]).then(
      (out) => ({ out }),
      (error: unknown) => ({
        error: `${error instanceof KeyProviderError ? `${error.code}: ` : ""}${error instanceof Error ? error.message : String(error)}`,
      }),
    );
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
} finally {
  await database.close();
}
