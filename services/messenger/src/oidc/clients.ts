/**
 * The statically registered clients, with their secrets. A secret comes from the environment
 * (MESSENGER_PAY_CLIENT_SECRET). In the embedded default only (PGlite, one process), a missing secret is made once
 * and kept in `<data dir>/pay-client.json` (mode 0600) as ready-to-use client metadata, where the pay server can
 * read it in development. With PostgreSQL the secret must be configured: several messenger processes and the pay
 * server have to agree on it, and a file on one machine cannot promise that.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PAY_CLIENT_FILE, type MessengerConfig } from "../config.ts";
import type { RegisteredClient } from "./provider.ts";

export interface ResolvedClients {
  clients: RegisteredClient[];
  /** Set when a secret was taken from (or made into) the data folder. */
  secretFile: string | undefined;
}

interface ClientFile {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  token_endpoint_auth_method: "client_secret_basic";
}

async function readSecretFile(file: string, clientId: string): Promise<string | undefined> {
  try {
    const stored = JSON.parse(await readFile(file, "utf8")) as Partial<ClientFile>;
    return stored.client_id === clientId &&
      typeof stored.client_secret === "string" &&
      stored.client_secret.length >= 32
      ? stored.client_secret
      : undefined;
  } catch {
    return undefined;
  }
}

export async function resolveClients(config: MessengerConfig): Promise<ResolvedClients> {
  let secretFile: string | undefined;
  const clients: RegisteredClient[] = [];
  for (const client of config.clients) {
    let secret = client.clientSecret?.peek();
    if (secret === undefined) {
      if (config.databaseUrl) {
        throw new Error(
          `MESSENGER_PAY_CLIENT_SECRET must be set when MESSENGER_DATABASE_URL is set: every messenger process and the pay server need the same secret for client ${client.clientId}`,
        );
      }
      if (secretFile)
        throw new Error(
          `client ${client.clientId} needs a configured secret (only one client's secret is kept in the data folder)`,
        );
      secretFile = join(config.dataDir, PAY_CLIENT_FILE);
      secret = (await readSecretFile(secretFile, client.clientId)) ?? randomBytes(32).toString("base64url");
      const metadata: ClientFile = {
        client_id: client.clientId,
        client_secret: secret,
        redirect_uris: client.redirectUris,
        token_endpoint_auth_method: "client_secret_basic",
      };
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(secretFile, JSON.stringify(metadata, null, 2) + "\n", { mode: 0o600 });
      await chmod(secretFile, 0o600);
    }
    clients.push({
      clientId: client.clientId,
      clientSecret: secret,
      redirectUris: client.redirectUris,
      name: client.name,
      firstParty: client.firstParty,
    });
  }
  return { clients, secretFile };
}
