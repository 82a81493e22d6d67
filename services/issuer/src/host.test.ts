/**
 * The host as a whole: three issuers in one process, each with its certificate and its own database (a schema of
 * its own on PostgreSQL); test cards seeded once; and no PAN, CVC, one-time code, JWE or secret in any log line.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyIssuerCertificate } from "@mpay/crypto";
import { issuerDirectoryEntrySchema } from "@mpay/protocol";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { TEST_CARDS, testCard } from "./cards/test-cards.ts";
import { TestDevice } from "./testing/device.ts";
import { authorize, enroll, latestCode, paymentRequest, startEnrollment, termsFor } from "./testing/flows.ts";
import { openTestHost, testBackends, type TestHost } from "./testing/host.ts";

describe.each(testBackends())("issuer host [%s]", (backend) => {
  let host: TestHost;
  beforeAll(async () => {
    host = await openTestHost(backend, { issuers: ["sampo", "kstar", "handae"], persistent: true });
  });
  afterAll(async () => {
    await host?.close();
  });

  it("lists its issuers with certificates from the test network's roots", async () => {
    const list = await host.get<unknown[]>("/issuers");
    const entries = list.body.map((entry) => issuerDirectoryEntrySchema.parse(entry));
    expect(entries.map((e) => [e.issuerId, e.name])).toEqual([
      ["sampo", "Sampo Card"],
      ["kstar", "KStar Card"],
      ["handae", "Handae Card"],
    ]);
    for (const entry of entries) {
      const certified = await verifyIssuerCertificate(
        entry.certificate,
        TEST_NETWORK_ROOTS,
        host.clock.seconds(),
        testCard(entry.issuerId, "approves").pan,
      );
      expect(certified.issuerId).toBe(entry.issuerId);
    }
    expect((await host.get("/issuers/kstar/certificate")).body).toEqual(entries[1]);
    expect((await host.get("/issuers/nosuch/certificate")).body).toMatchObject({ error: { code: "issuer_unknown" } });
    expect((await host.get("/nowhere")).body).toMatchObject({ error: { code: "route_not_found" } });
  });

  it("keeps each issuer's accounts to itself, and seeds test cards only once", async () => {
    const device = await TestDevice.create();
    const kstarCard = testCard("kstar", "approves");
    // A KStar card is no Sampo account, even though both live in one process (and one PostgreSQL database).
    expect((await startEnrollment(host, "sampo", device, kstarCard)).body).toMatchObject({
      error: { code: "enrollment_refused" },
    });
    const enrolled = await enroll(host, "kstar", device, kstarCard);
    await host.restart();
    const view = await host.operator<{ cardRef: string; maskedPan: string }>(
      `/issuers/kstar/backoffice/cards/${enrolled.cardRef}`,
    );
    expect(view.body).toMatchObject({ cardRef: enrolled.cardRef, maskedPan: "4222 •••• •••• 0012" });
    const books = await host.operator<{ cards: number }>("/issuers/handae/backoffice/books");
    expect(books.body.cards).toBe(TEST_CARDS.filter((c) => c.issuerId === "handae").length);
    if (backend === "postgres") {
      const client = new pg.Client({ connectionString: host.config.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ table_schema: string }>(
          "select distinct table_schema from information_schema.tables where table_name = 'card_accounts' order by 1",
        );
        expect(rows.map((r) => r.table_schema)).toEqual(["issuer_handae", "issuer_kstar", "issuer_sampo"]);
      } finally {
        await client.end();
      }
    }
  });

  it("writes no PAN, CVC, one-time code, JWE or secret to its logs", async () => {
    const device = await TestDevice.create();
    const codes: string[] = [];
    const jwes: string[] = [];
    for (const issuerId of ["sampo", "handae"]) {
      const card = testCard(issuerId, "mastercard");
      await startEnrollment(
        host,
        issuerId,
        device,
        { ...card, cvc: card.cvc === "907" ? "908" : "907" },
        { payerRef: "usr_logs" },
      );
      const started = await startEnrollment(host, issuerId, device, card, { payerRef: "usr_logs" });
      const code = await latestCode(host, card.phone);
      codes.push(code);
      await host.acquirer("POST", `/issuers/${issuerId}/enrollments/${String(started.body["enrollmentId"])}/verify`, {
        code: code === "000000" ? "000001" : "000000",
      });
      const enrolled = await enroll(host, issuerId, device, card, { payerRef: "usr_logs" });
      codes.push(await latestCode(host, card.phone));
      const terms = termsFor(host, issuerId, enrolled.cardRef);
      const request = await paymentRequest(host, device, card, terms);
      jwes.push(String(request["payment"]));
      await authorize(host, issuerId, request);
      await host.acquirer("POST", `/issuers/${issuerId}/authorizations/${terms.paymentId}/capture`, {
        operationId: `iop_${randomBytes(6).toString("hex")}`,
        amount: 35_000,
      });
    }
    await host.acquirer("POST", "/issuers/sampo/enrollments", {
      enrollment: "x",
      payerRef: "usr_logs",
      pan: "4111000000000016",
    });

    // Times and durations are numbers that could contain any digits: they are dropped before searching.
    const logged = host.logLines.map((line) => {
      const { time: _time, ms: _ms, pid: _pid, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
    expect(logged.length).toBeGreaterThan(20);
    const standalone = (value: string) => new RegExp(`(?<![0-9A-Za-z_-])${value}(?![0-9A-Za-z_-])`);
    const forbidden: Array<[string, RegExp]> = [
      ...TEST_CARDS.map((c) => [`PAN ${c.pan}`, new RegExp(c.pan)] as [string, RegExp]),
      ...TEST_CARDS.map((c) => [`last digits of ${c.pan}`, new RegExp(c.pan.slice(0, 12))] as [string, RegExp]),
      ...["sampo", "handae"].map(
        (id) => [`CVC of ${id}`, standalone(testCard(id, "mastercard").cvc)] as [string, RegExp],
      ),
      ["a wrong CVC", standalone("907")],
      ...codes.map((code) => [`code ${code}`, standalone(code)] as [string, RegExp]),
      ...jwes.map((jwe) => [`a JWE`, new RegExp(jwe.split(".")[2]!.slice(0, 16))] as [string, RegExp]),
      ["the acquirer secret", new RegExp(host.acquirerSecret)],
      ["the operator token", new RegExp(host.operatorToken)],
    ];
    for (const [what, pattern] of forbidden) {
      const line = logged.find((l) => pattern.test(l));
      expect(line, `${what} logged`).toBeUndefined();
    }
  });
});

describe("issuer host without the test inbox", () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await openTestHost("pglite", { issuers: ["handae"], overrides: { testInbox: false } });
  });
  afterAll(async () => {
    await host?.close();
  });

  it("has no test inbox, and still starts enrollments (the code goes to no phone)", async () => {
    expect((await host.get("/test-inbox?phone=%2B821055530001")).status).toBe(404);
    const started = await startEnrollment(host, "handae", await TestDevice.create(), testCard("handae", "approves"));
    expect(started.status).toBe(201);
  });
});
