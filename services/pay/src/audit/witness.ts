/**
 * The witness outside the pay database (issue 7, hole 5; Certificate Transparency's witnesses as the model): an
 * issuer host keeps every signed head the pay server sends it (services/issuer/src/witness/), refuses one that
 * shrinks the log or changes the hash at a size it already holds, and serves them to anyone. A key holder who
 * rewrites or truncates the log before a witnessed head cannot make the witness forget that head, so
 * `mpay audit verify --witness` fails.
 *
 * Plain HTTP and JSON (packages/protocol audit.ts), with the acquirer link's bearer secret for submissions: this is
 * infrastructure, so it knows a URL and a credential, never the issuers context (system.ts wires both).
 */
import { readFile } from "node:fs/promises";
import {
  witnessedHeadsSchema,
  witnessReceiptSchema,
  type AuditPublicJwk,
  type WitnessedHeads,
  type WitnessReceipt,
} from "@mpay/protocol";

export type WitnessErrorCode = "witness_unavailable" | "witness_refused" | "witness_answer_invalid";

export class WitnessError extends Error {
  constructor(
    readonly code: WitnessErrorCode,
    message: string,
    /** The witness's own error code when it refused (`audit_head_forked`, `audit_head_shrunk`, …). */
    readonly witnessCode?: string,
  ) {
    super(message);
    this.name = "WitnessError";
  }
}

export interface WitnessClientOptions {
  /** The witness's heads URL, e.g. `http://127.0.0.1:4100/issuers/sampo/audit-heads`. */
  url: string;
  /** The acquirer secret the issuer host expects; read when needed (the embedded issuer writes it at start). */
  bearer: () => Promise<string>;
  timeoutMs: number;
}

export class WitnessClient {
  constructor(private readonly options: WitnessClientOptions) {}

  get url(): string {
    return this.options.url;
  }

  /** Sends the newest signed head with the key that signed it; the witness pins that key with its first head. */
  async submit(head: string, key: AuditPublicJwk): Promise<WitnessReceipt> {
    const body = await request(this.options.url, this.options.timeoutMs, {
      method: "POST",
      headers: { authorization: `Bearer ${await this.options.bearer()}`, "content-type": "application/json" },
      body: JSON.stringify({ head, key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y, kid: key.kid } }),
    });
    const parsed = witnessReceiptSchema.safeParse(body);
    if (!parsed.success)
      throw new WitnessError(
        "witness_answer_invalid",
        `the witness at ${this.options.url} did not answer with a receipt`,
      );
    return parsed.data;
  }
}

/** The heads a witness kept: from its URL (`http(s)://…`), or from a file holding what that URL answered. */
export async function readWitnessedHeads(source: string, timeoutMs = 10_000): Promise<WitnessedHeads> {
  let body: unknown;
  if (/^https?:\/\//i.test(source)) {
    body = await request(source, timeoutMs, { method: "GET" });
  } else {
    try {
      body = JSON.parse(await readFile(source, "utf8"));
    } catch (error) {
      const why =
        error instanceof SyntaxError
          ? "is not JSON"
          : `cannot be read (${(error as NodeJS.ErrnoException).code ?? "read error"})`;
      throw new WitnessError("witness_answer_invalid", `the witness heads file ${source} ${why}`);
    }
  }
  const parsed = witnessedHeadsSchema.safeParse(body);
  if (!parsed.success)
    throw new WitnessError(
      "witness_answer_invalid",
      `${source} does not hold a witness's heads ({ key, heads: [{ head, receivedAt }] })`,
    );
  return parsed.data;
}

async function request(url: string, timeoutMs: number, init: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    // No cause attached: it could carry the request, and with it the bearer secret.
    throw new WitnessError("witness_unavailable", `the witness at ${url} could not be reached`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new WitnessError("witness_answer_invalid", `the witness at ${url} answered ${response.status} without JSON`);
  }
  if (response.ok) return body;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code.slice(0, 64) : undefined;
  const message = typeof error?.message === "string" ? error.message.slice(0, 300) : `status ${response.status}`;
  if (response.status >= 500)
    throw new WitnessError("witness_unavailable", `the witness at ${url} failed: ${message}`, code);
  throw new WitnessError(
    "witness_refused",
    `the witness at ${url} refused the head (${code ?? response.status}): ${message}`,
    code,
  );
}
