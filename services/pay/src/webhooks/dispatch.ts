/**
 * Signs one message for one endpoint and sends it: the delivery worker's retries and an endpoint's test event go
 * through the same code, so a test proves exactly what a real delivery would do.
 */
import type { Mode } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { EndpointSecrets } from "./endpoint-secrets.ts";
import { deliver, type DeliveryResult } from "./sender.ts";
import { v1aKeyAad } from "./service-aad.ts";
import { webhookHeaders } from "./signing.ts";

export interface OutgoingMessage {
  /** The delivery's id: the `webhook-id` header, the same on every attempt. */
  id: string;
  body: string;
  url: string;
  endpointId: string;
  merchantId: string;
  mode: Mode;
  sealedSecret: string | null;
  previousSealedSecret: string | null;
  v1aSealedPrivateKey: string | null;
}

export async function signAndSend(
  keys: KeyProvider,
  secrets: EndpointSecrets,
  m: OutgoingMessage,
  timeoutMs: number,
  /** The caller's transaction, when it sends inside one. */
  db?: Executor,
): Promise<DeliveryResult> {
  const [secret, previous] = await secrets.signing(
    {
      id: m.endpointId,
      merchantId: m.merchantId,
      mode: m.mode,
      sealedSecret: m.sealedSecret,
      previousSealedSecret: m.previousSealedSecret,
    },
    db,
  );
  const v1aKey = m.v1aSealedPrivateKey
    ? await keys.open("webhook-signing-key", m.v1aSealedPrivateKey, v1aKeyAad(m.endpointId))
    : undefined;
  try {
    const headers = webhookHeaders({
      msgId: m.id,
      timestamp: Math.floor(Date.now() / 1000),
      body: m.body,
      secret: secret!.peek(),
      previousSecret: previous?.peek(),
      ...(v1aKey ? { v1aPrivateKey: v1aKey } : {}),
    });
    return await deliver({ url: m.url, mode: m.mode, headers, body: m.body, timeoutMs });
  } finally {
    v1aKey?.fill(0);
  }
}
