/**
 * `npm start`'s first step (scripts/start.mjs runs it before the services): the demo card network of this machine
 * (issue 7, hole 2 and hole 6). It makes the demo network root once (private key in `.data/network`, mode 0600),
 * certifies the demo issuers' encryption keys and the pay server's PIN-statement key with it, and gives the issuer
 * host and the demo wallets its public key as their only root. Nothing of the committed test network is used; the
 * one file taken from services/issuer/fixtures is the published test cards' card verification key
 * (services/issuer/src/cards/test-card-key.ts). Each later start only checks, and renews what is about to expire.
 *
 * Reads the services' own variables (ISSUER_DATA_DIR, ISSUER_IDS, ISSUER_<ID>_*_FILE, ISSUER_NETWORK_ROOTS_FILE,
 * ISSUER_ACQUIRER_ID, MPAY_DATA_DIR, DATABASE_URL, MPAY_KEK_PROVIDER…) and MPAY_NETWORK_DIR (default .data/network).
 */
import { resolve } from "node:path";
import { loadConfig as loadIssuerConfig } from "../services/issuer/src/config.ts";
import { certifyDemoIssuers } from "./network/demo-issuers.ts";
import { ensureDemoRoot } from "./network/demo-root.ts";
import { certifyDemoStatementKey } from "./network/demo-statement-key.ts";

const say = (line: string) => process.stdout.write(`network: ${line}\n`);

async function main(): Promise<void> {
  const env = process.env;
  const networkDir = resolve(env["MPAY_NETWORK_DIR"] || ".data/network");
  const nowSeconds = Math.floor(Date.now() / 1000);
  const demo = await ensureDemoRoot(networkDir);
  say(
    demo.created
      ? `made this machine's demo network root ${demo.root.kid} (private key ${demo.privateKeyFile}, mode 0600; it certifies the demo issuers and the pay server's statement key, nothing else)`
      : `demo network root ${demo.root.kid} (${demo.privateKeyFile})`,
  );

  const issuerConfig = loadIssuerConfig(env);
  const issuers = await certifyDemoIssuers(issuerConfig, demo, nowSeconds);
  if (issuers.certified.length > 0) say(`certified the demo issuers ${issuers.certified.join(", ")} for a year`);
  if (issuers.configuredElsewhere.length > 0)
    say(`left ${issuers.configuredElsewhere.join(", ")} alone: their key files are configured elsewhere`);
  if (!issuers.rootsFileWritten) say(`left ${issuerConfig.networkRootsFile} alone (ISSUER_NETWORK_ROOTS_FILE)`);

  const statementKey = await certifyDemoStatementKey({
    env,
    payDataDir: resolve(env["MPAY_DATA_DIR"] || ".data/pay"),
    demo,
    acquirerId: issuerConfig.acquirerId,
    nowSeconds,
  });
  if (statementKey.done === "certified")
    say(`certified the pay server's PIN-statement key ${statementKey.kid} for a year (mpay statement-key install)`);
  if (statementKey.done === "unavailable") {
    say(
      `could not certify the pay server's PIN-statement key (${statementKey.reason}); PIN payments are declined until it is: see docs/network.md`,
    );
  }
  say(`demo wallets trust ${demo.rootsFile} alone`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`network: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
