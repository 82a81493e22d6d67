/**
 * The restored copy before its custodians act (shamir: no share given yet; pkcs11: the recovery site's HSM without
 * the vault's keys): it must open nothing. The phone's payment (PIN login, card release) and a merchant request
 * that seals a secret must be refused with the documented error (docs/key-providers.md: 503 `vault_sealed`, or
 * `vault_not_initialized`), no payment may be approved, `/readyz` must say the key provider is not ready, and no
 * share or token PIN may appear in an answer or in the server's log.
 */
import { api, type HttpAnswer } from "../e2e/support/http.ts";
import type { RunningPay } from "./restore-launch.ts";
import type { Check } from "./restore.ts";
import type { SourceSite } from "./restore-system.ts";

export const SEALED_CODES = ["vault_sealed", "vault_not_initialized"];

export interface SealedProbe {
  /** The code the phone's approval got (the card is released only after the PIN login, which needs the key). */
  code: string;
  checks: Check[];
}

const codeOf = (answer: HttpAnswer<unknown>) =>
  (answer.body as { error?: { code?: string } } | null)?.error?.code ?? String(answer.status);

export async function checkSealedCopy(site: SourceSite, server: RunningPay, secrets: string[]): Promise<SealedProbe> {
  const ready = await api<{ checks?: { keyProvider?: string } }>(server.url, "GET", "/readyz", null);
  const refusalsBefore = { ...site.load.tally.refusals };
  const authorizedBefore = countAuthorized(site);
  await site.pay(1);
  const approvals = Object.entries(site.load.tally.refusals)
    .filter(([what, n]) => what.startsWith("approve:") && n > (refusalsBefore[what] ?? 0))
    .map(([what]) => what.slice("approve:".length));
  const endpoint = await api(server.url, "POST", "/v1/webhook-endpoints", site.merchant.secretKey, {
    url: site.receiver.url,
  });
  const code = approvals[0] ?? "none";
  const everything = [ready.raw, endpoint.raw, server.output()].join("\n");
  const leaked = secrets.filter((s) => s.length > 0 && everything.includes(s));
  return {
    code,
    checks: [
      {
        name: "the sealed copy approves no payment (the card is not released)",
        ok: countAuthorized(site) === authorizedBefore && approvals.length === 1,
        detail: `the phone's approval answered ${code}`,
      },
      {
        name: "the sealed copy answers the documented sealed error",
        ok: SEALED_CODES.includes(code) && endpoint.status === 503 && SEALED_CODES.includes(codeOf(endpoint)),
        detail: `approval: ${code}; new webhook endpoint: ${endpoint.status} ${codeOf(endpoint)}`,
      },
      {
        name: "the sealed copy is not ready (/readyz)",
        ok: ready.status === 503 && ready.body?.checks?.keyProvider === "sealed",
        detail: `/readyz ${ready.status}, keyProvider ${ready.body?.checks?.keyProvider ?? "?"}`,
      },
      {
        name: "nothing secret in the sealed copy's answers or log",
        ok: leaked.length === 0,
        detail: leaked.length ? `${leaked.length} secret(s) found` : `none of ${secrets.length} shares/PINs appears`,
      },
    ],
  };
}

function countAuthorized(site: SourceSite): number {
  return [...site.load.claims.values()].filter((c) => c.acknowledged.has("authorized")).length;
}
