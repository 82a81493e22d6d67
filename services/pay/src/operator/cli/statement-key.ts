/**
 * `mpay statement-key …`: the pay server's PIN-statement keys and the card network's certificates of them
 * (docs/network.md). Issuers accept a PIN statement only under a key the network certified, so the operator:
 *
 *   mpay statement-key show            the keys, their certificates, and which key signs now (--json for scripts)
 *   mpay statement-key install [FILE]  a certificate from the network (a compact JWS; stdin when no FILE)
 *   mpay statement-key rotate          a new key; the current one signs until the new one's certificate is installed
 *
 * Nothing here prints or takes a private key; certificates and public keys are public.
 */
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { PaySystem } from "../../system.ts";
import type { StatementKeyStatus } from "../../issuers/statement-signer.ts";
import type { Out } from "./io.ts";

async function readAll(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

function describe(status: StatementKeyStatus): string {
  const lines = status.keys.map((key) => {
    const certificates = key.certificates.map(
      (c) =>
        `    certificate for ${c.acquirerId}, ${c.notBefore} → ${c.notAfter}${c.validNow ? "" : " (not valid now)"}`,
    );
    return [
      `key ${key.generation} ${key.kid}${key.kid === status.signingKid ? "  ← signs PIN statements" : ""}`,
      `    public key ${JSON.stringify(key.jwk)}`,
      ...(certificates.length ? certificates : ["    no certificate: send the public key above to the card network"]),
    ].join("\n");
  });
  const verdict = status.signingKid
    ? ""
    : "\nNo key holds a valid certificate: issuers will refuse PIN payments until one is installed (mpay statement-key install).";
  return lines.join("\n") + verdict;
}

/** The `statement-key` commands; -1 when `command` is not one of them. */
export async function statementKeyCommand(
  command: string,
  args: string[],
  system: PaySystem,
  out: Out,
): Promise<number> {
  const signer = system.statementSigner;
  switch (command) {
    case "statement-key show": {
      const status = await signer.status();
      out.print(describe(status), status);
      return status.signingKid ? 0 : 1;
    }
    case "statement-key install": {
      const file = args[0];
      const certificate = file ? await readFile(file, "utf8") : await readAll(out.io.stdin);
      const content = await signer.install(certificate);
      await system.audit.record({
        actor: "operator:cli",
        action: "statement_key.certified",
        data: { kid: content.kid, acquirerId: content.acquirerId, nbf: content.nbf, exp: content.exp },
      });
      const status = await signer.status();
      out.print(
        `installed the certificate of key ${content.kid} for ${content.acquirerId}, valid until ${new Date(content.exp * 1000).toISOString()}\n${describe(status)}`,
        { installed: content, ...status },
      );
      return 0;
    }
    case "statement-key rotate": {
      const key = await signer.rotate();
      await system.audit.record({
        actor: "operator:cli",
        action: "statement_key.rotated",
        data: { kid: key.kid, generation: key.generation },
      });
      const status = await signer.status();
      out.print(
        `made key ${key.generation} ${key.kid}; it signs once its certificate is installed\n${describe(status)}`,
        { rotated: { generation: key.generation, kid: key.kid, jwk: key.publicJwk }, ...status },
      );
      return 0;
    }
    default:
      return -1;
  }
}
