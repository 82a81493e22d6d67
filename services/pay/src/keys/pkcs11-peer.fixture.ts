/**
 * Another process on the same token, for pkcs11-provider.test.ts: `open <blob> <aad>` prints the plaintext,
 * `seal <text> <aad>` prints a blob, `rotate` prints the new version. It has its own (empty) database, so its
 * current version is the token's highest, as for a process whose database record is not yet written.
 * Run with SOFTHSM2_CONF and MPAY_PKCS11_TOKEN_LABEL / MPAY_PKCS11_PIN in the environment.
 */
import { migrateDatabase, openDatabase } from "../db/client.ts";
import { loadConfig } from "../config.ts";
import { openPkcs11KeyProvider } from "./pkcs11-provider.ts";

const [command, first, aad] = process.argv.slice(2);
const database = await openDatabase({});
await migrateDatabase(database);
const keys = await openPkcs11KeyProvider(loadConfig().pkcs11, database.db);
try {
  if (command === "open") process.stdout.write(Buffer.from(await keys.open("provider-secret", first ?? "", aad ?? "")).toString());
  else if (command === "seal") process.stdout.write(await keys.seal("provider-secret", Buffer.from(first ?? ""), aad ?? ""));
  else if (command === "rotate") process.stdout.write(String(await keys.rotate()));
  else throw new Error(`unknown command ${command}`);
} finally {
  await keys.close();
  await database.close();
}
