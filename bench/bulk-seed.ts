/**
 * `pay --enrolled N`: N more payers, each with an active device, a PIN and an active card (and, when the template
 * has one, a passkey), written straight into the pay server's and the issuer host's databases in bulk
 * (`INSERT … SELECT FROM unnest(…)`, 5 000 rows a statement), so that the tables and indexes the payment path reads
 * have the size of a real service while the timed payers stay the ones enrolled for real (issue 11, "Cost flat
 * with size"). Not through the wallet: 100k enrollments through HTTP would take hours and measure nothing.
 *
 * The rows are the servers' own formats, copied from a real enrolled payer (the template) where a value cannot be
 * made without that payer's device: each bulk payer has its own id and messenger subject, its own P-256 device key
 * with its RFC 7638 thumbprint, its own card account at the issuer (a Luhn-valid PAN of the issuer's BIN, its own
 * card_ref, the template's limit and open-to-buy, so the books balance) bound to that device key; the OPAQUE
 * registration record, the sealed card record and the wrapped K_srv are the template's bytes (sealed for the
 * template's card: a bulk payer could not pay, which none does), and so is the passkey's COSE key under a new
 * credential id. Then ANALYZE, so that the planner sees the sizes.
 */
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { newId } from "@mpay/protocol";
import { schemaNameOf } from "../services/issuer/src/db/client.ts";
import { newIssuerId } from "../services/issuer/src/ids.ts";
import { freshP256 } from "./device-crypto.ts";

const BATCH = 5000;

/** RFC 7638 thumbprint of a P-256 public JWK (the device's kid). */
function thumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  return createHash("sha256")
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest("base64url");
}

/** The Luhn check digit of `body` (digits). */
export function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** A 16-digit PAN of `bin` (6 digits) with serial `n`, far from the simulator's test cards (serials from 5·10⁸). */
export function bulkPan(bin: string, n: number): string {
  const body = `${bin}${String(500_000_000 + n).padStart(9, "0")}`;
  return body + luhnDigit(body);
}

interface Template {
  pin: { registration_record: string };
  card: {
    issuer_id: string;
    card_ref: string;
    brand: string;
    expiry_month: string;
    sealed_card: string;
    record_version: number;
    wrapped_k_srv: string;
    kek_version: number;
  };
  device: { approved_by: string };
  passkey: { public_key: string; device_type: string } | null;
}

async function insertRows(
  client: pg.Client,
  table: string,
  columns: Array<[name: string, type: string]>,
  rows: unknown[][],
): Promise<void> {
  for (let from = 0; from < rows.length; from += BATCH) {
    const batch = rows.slice(from, from + BATCH);
    const arrays = columns.map((_, c) => batch.map((row) => row[c]));
    await client.query(
      `insert into ${table} (${columns.map(([n]) => n).join(", ")}) select * from unnest(${columns
        .map(([, type], i) => `$${i + 1}::${type}[]`)
        .join(", ")})`,
      arrays,
    );
  }
}

/**
 * Seeds `count` payers in the pay server's database (`payDbUrl`) and their card accounts and device bindings in the
 * issuers' schemas of `issuerDbUrl`, spread over the template's issuer and the others in `issuerIds`; answers the
 * seconds it took.
 */
export async function seedEnrolled(input: {
  payDbUrl: string;
  issuerDbUrl: string;
  issuerIds: string[];
  templatePayerId: string;
  count: number;
  progress: (line: string) => void;
}): Promise<number> {
  const started = performance.now();
  const pay = new pg.Client({ connectionString: input.payDbUrl });
  const issuer = new pg.Client({ connectionString: input.issuerDbUrl });
  await pay.connect();
  await issuer.connect();
  try {
    const one = async <T>(client: pg.Client, sql: string, params: unknown[]): Promise<T | null> =>
      ((await client.query(sql, params)).rows[0] as T | undefined) ?? null;
    const id = input.templatePayerId;
    const template: Template = {
      pin: (await one(pay, "select registration_record from payer_pins where payer_id = $1", [id])) as Template["pin"],
      card: (await one(
        pay,
        "select issuer_id, card_ref, brand, expiry_month, sealed_card, record_version, wrapped_k_srv, kek_version from cards where payer_id = $1 and status = 'active' limit 1",
        [id],
      )) as Template["card"],
      device: (await one(pay, "select approved_by from devices where payer_id = $1 and status = 'active' limit 1", [
        id,
      ])) as Template["device"],
      passkey: await one(pay, "select public_key, device_type from passkeys where payer_id = $1 limit 1", [id]),
    };
    if (!template.pin || !template.card || !template.device)
      throw new Error(`setup: payer ${id} has no PIN, active card or device to copy`);
    // Each issuer's own card account of the template's kind (for its BIN, brand, limit and currency).
    const accounts = new Map<string, Record<string, string | number>>();
    for (const issuerId of input.issuerIds) {
      const row = await one<Record<string, string | number>>(
        issuer,
        `select pan, brand, expiry_month, holder_name, phone, currency, credit_limit from ${schemaNameOf(issuerId)}.card_accounts where status = 'active' order by pan limit 1`,
        [],
      );
      if (row) accounts.set(issuerId, row);
    }
    const issuers = [...accounts.keys()];
    if (issuers.length === 0) throw new Error("setup: no issuer card account to copy");

    const payers: unknown[][] = [];
    const devices: unknown[][] = [];
    const pins: unknown[][] = [];
    const cards: unknown[][] = [];
    const passkeys: unknown[][] = [];
    const byIssuer = new Map<string, { accounts: unknown[][]; bindings: unknown[][] }>(
      issuers.map((i) => [i, { accounts: [], bindings: [] }]),
    );
    const now = new Date();
    for (let n = 0; n < input.count; n++) {
      const issuerId = issuers[n % issuers.length] as string;
      const account = accounts.get(issuerId) as Record<string, string | number>;
      const payerId = newId("payer");
      const deviceId = newId("device");
      const publicJwk = freshP256().publicJwk; // the private half is thrown away: a bulk payer never signs
      const kid = thumbprint(publicJwk);
      const cardRef = newIssuerId("cardRef");
      const pan = bulkPan(String(account["pan"]).slice(0, 6), n);
      payers.push([payerId, `bulk_${payerId}`, `Bulk Payer ${n + 1}`]);
      devices.push([
        deviceId,
        payerId,
        kid,
        JSON.stringify(publicJwk),
        "Bulk phone",
        "active",
        now,
        template.device.approved_by,
      ]);
      pins.push([payerId, template.pin.registration_record]);
      cards.push([
        newId("card"),
        payerId,
        deviceId,
        issuerId,
        cardRef,
        template.card.brand,
        pan.slice(-4),
        template.card.expiry_month,
        "active",
        template.card.sealed_card,
        template.card.record_version,
        template.card.wrapped_k_srv,
        template.card.kek_version,
      ]);
      const credentialId = randomBytes(16).toString("base64url");
      if (template.passkey)
        passkeys.push([credentialId, payerId, template.passkey.public_key, template.passkey.device_type]);
      const into = byIssuer.get(issuerId) as { accounts: unknown[][]; bindings: unknown[][] };
      into.accounts.push([
        cardRef,
        pan,
        account["brand"],
        account["expiry_month"],
        account["holder_name"],
        account["phone"],
        account["currency"],
        account["credit_limit"],
        account["credit_limit"],
        "active",
      ]);
      into.bindings.push([newIssuerId("binding"), cardRef, kid, JSON.stringify(publicJwk), payerId, now]);
      if (n > 0 && n % 20_000 === 0) input.progress(`setup: ${n} of ${input.count} bulk payers made`);
    }
    await pay.query("begin");
    await insertRows(
      pay,
      "payers",
      [
        ["id", "text"],
        ["messenger_subject", "text"],
        ["display_name", "text"],
      ],
      payers,
    );
    await insertRows(
      pay,
      "devices",
      [
        ["id", "text"],
        ["payer_id", "text"],
        ["key_thumbprint", "text"],
        ["public_key_jwk", "jsonb"],
        ["name", "text"],
        ["status", "text"],
        ["activates_at", "timestamptz"],
        ["approved_by", "text"],
      ],
      devices,
    );
    await insertRows(
      pay,
      "payer_pins",
      [
        ["payer_id", "text"],
        ["registration_record", "text"],
      ],
      pins,
    );
    await insertRows(
      pay,
      "cards",
      [
        ["id", "text"],
        ["payer_id", "text"],
        ["device_id", "text"],
        ["issuer_id", "text"],
        ["card_ref", "text"],
        ["brand", "text"],
        ["last4", "text"],
        ["expiry_month", "text"],
        ["status", "text"],
        ["sealed_card", "text"],
        ["record_version", "int"],
        ["wrapped_k_srv", "text"],
        ["kek_version", "int"],
      ],
      cards,
    );
    if (passkeys.length > 0)
      await insertRows(
        pay,
        "passkeys",
        [
          ["id", "text"],
          ["payer_id", "text"],
          ["public_key", "text"],
          ["device_type", "text"],
        ],
        passkeys,
      );
    await pay.query("commit");
    await pay.query("analyze payers, devices, payer_pins, cards, passkeys");
    for (const [issuerId, rows] of byIssuer) {
      const schema = schemaNameOf(issuerId);
      await issuer.query("begin");
      await insertRows(
        issuer,
        `${schema}.card_accounts`,
        [
          ["card_ref", "text"],
          ["pan", "text"],
          ["brand", "text"],
          ["expiry_month", "text"],
          ["holder_name", "text"],
          ["phone", "text"],
          ["currency", "text"],
          ["credit_limit", "bigint"],
          ["open_to_buy", "bigint"],
          ["status", "text"],
        ],
        rows.accounts,
      );
      await insertRows(
        issuer,
        `${schema}.device_bindings`,
        [
          ["id", "text"],
          ["card_ref", "text"],
          ["device_kid", "text"],
          ["device_jwk", "jsonb"],
          ["payer_ref", "text"],
          ["bound_at", "timestamptz"],
        ],
        rows.bindings,
      );
      await issuer.query("commit");
      await issuer.query(`analyze ${schema}.card_accounts, ${schema}.device_bindings`);
    }
  } finally {
    await pay.end();
    await issuer.end();
  }
  return (performance.now() - started) / 1000;
}
