import { describe, expect, it } from "vitest";
import { approvalTermsSchema, canonicalTerms, sameTerms, termsTimeProblem, type ApprovalTerms } from "./approval.ts";

const terms: ApprovalTerms = {
  aud: "issuer-kb",
  cardRef: "card_1",
  paymentId: "pay_01",
  merchantId: "mch_01",
  merchantName: "Demo Mall",
  amount: 35000,
  currency: "KRW",
  captureMethod: "manual",
  nonce: "AAAAAAAAAAAAAAAAAAAAAA",
  iat: 1_800_000_000,
  exp: 1_800_000_300,
};

describe("approval terms", () => {
  it("canonicalizes with sorted keys and no whitespace, whatever the input order", () => {
    const shuffled = Object.fromEntries(Object.entries(terms).reverse()) as ApprovalTerms;
    expect(canonicalTerms(shuffled)).toBe(canonicalTerms(terms));
    expect(canonicalTerms(terms).startsWith('{"amount":35000,"aud":"issuer-kb","captureMethod":"manual",')).toBe(true);
    expect(canonicalTerms(terms)).not.toMatch(/[:,{]\s/);
  });

  it("differs when any field differs", () => {
    for (const [field, value] of [
      ["amount", 35001],
      ["merchantId", "mch_02"],
      ["paymentId", "pay_02"],
      ["cardRef", "card_2"],
      ["aud", "issuer-x"],
    ] as const) {
      expect(sameTerms(terms, { ...terms, [field]: value })).toBe(false);
    }
    expect(sameTerms(terms, { ...terms })).toBe(true);
  });

  it("checks the time window", () => {
    expect(termsTimeProblem(terms, terms.iat + 10)).toBeNull();
    expect(termsTimeProblem(terms, terms.exp)).toBe("terms_expired");
    expect(termsTimeProblem(terms, terms.iat - 60)).toBe("terms_not_yet_valid");
    expect(termsTimeProblem({ ...terms, exp: terms.iat + 301 }, terms.iat)).toBe("terms_lifetime_too_long");
  });

  it("refuses unknown fields and fractional amounts", () => {
    expect(approvalTermsSchema.safeParse({ ...terms, extra: 1 }).success).toBe(false);
    expect(approvalTermsSchema.safeParse({ ...terms, amount: 1.5 }).success).toBe(false);
    expect(approvalTermsSchema.safeParse(terms).success).toBe(true);
  });
});
