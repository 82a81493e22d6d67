/**
 * Another process on the same token, for pkcs11-provider.test.ts: `open <blob> <aad>` prints the plaintext,
 * `seal <text> <aad>` prints a blob, `rotate` prints the new version. It has its own (empty) database, so its
 * current version is the token's highest, as for a process whose database record is not yet written.
 * Run with SOFTHSM2_CONF and MPAY_PKCS11_TOKEN_LABEL / MPAY_PKCS11_PIN in the environment.
 */
import { Secret } from "@mpay/protocol";
import { migrateDatabase, openDatabase } from "../../db/client.ts";
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

const [command, first, aad] = process.argv.slice(2);
const database = await openDatabase({});
await migrateDatabase(database);
const keys = await openPkcs11KeyProvider(settings, database.db);
try {
  if (command === "open")
    process.stdout.write(Buffer.from(await keys.open("provider-secret", first ?? "", aad ?? "")).toString());
  else if (command === "seal")
    process.stdout.write(await keys.seal("provider-secret", Buffer.from(first ?? ""), aad ?? ""));
  else if (command === "rotate") process.stdout.write(String(await keys.rotate()));
  else throw new Error(`unknown command ${command}`);
} finally {
  await keys.close();
  await database.close();
}
