/**
 * The host's two bearer credentials. Each comes from the environment (ISSUER_ACQUIRER_SECRET,
 * ISSUER_OPERATOR_TOKEN); when unset, it is made once and kept in the data folder with mode 0600, where the pay
 * server (`acquirer.json`) and an operator (`operator.json`) read it in development, the way the messenger keeps
 * the pay client's secret. Several hosts behind one pay server need the variables: a file on one machine cannot
 * make them agree.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Secret } from "@mpay/protocol";
import { ACQUIRER_FILE, OPERATOR_FILE, type IssuerHostConfig } from "./config.ts";

export interface HostSecrets {
  acquirerSecret: Secret<string>;
  operatorToken: Secret<string>;
  /** Set when the secret was taken from (or made into) the data folder. */
  acquirerFile: string | undefined;
  operatorFile: string | undefined;
}

/** `{ "secret": "…" }` in acquirer.json, `{ "token": "…" }` in operator.json. */
async function fileSecret(
  dir: string,
  name: string,
  field: "secret" | "token",
): Promise<{ value: Secret<string>; file: string }> {
  const file = join(dir, name);
  let value: string | undefined;
  try {
    const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    const found = stored[field];
    if (typeof found === "string" && found.length >= 32) value = found;
  } catch {
    value = undefined;
  }
  if (value === undefined) {
    value = randomBytes(32).toString("base64url");
    await mkdir(dir, { recursive: true });
    await writeFile(file, JSON.stringify({ [field]: value }, null, 2) + "\n", { mode: 0o600 });
  }
  await chmod(file, 0o600);
  return { value: new Secret(value), file };
}

export async function resolveHostSecrets(config: IssuerHostConfig): Promise<HostSecrets> {
  const acquirer = config.acquirerSecret
    ? { value: config.acquirerSecret, file: undefined }
    : await fileSecret(config.dataDir, ACQUIRER_FILE, "secret");
  const operator = config.operatorToken
    ? { value: config.operatorToken, file: undefined }
    : await fileSecret(config.dataDir, OPERATOR_FILE, "token");
  return {
    acquirerSecret: acquirer.value,
    operatorToken: operator.value,
    acquirerFile: acquirer.file,
    operatorFile: operator.file,
  };
}
