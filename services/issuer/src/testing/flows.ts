/** The acquirer-side steps tests repeat: enroll a card through the test inbox, build terms, ask for a payment. */
import { randomBytes } from "node:crypto";
import type { ApprovalTerms, AuthenticationResult, AuthorizationAnswer, EnrolledCard } from "@mpay/protocol";
import { termsHashOf } from "../authorization/open-payment.ts";
import type { CardInput, TestDevice } from "./device.ts";
import { newNonce } from "./device.ts";
import type { Answer, TestHost } from "./host.ts";

export interface InboxAnswer {
  phone: string;
  messages: Array<{ issuerId: string; code: string; text: string; sentAt: string }>;
}

export async function latestCode(host: TestHost, phone: string): Promise<string> {
  const inbox = await host.get<InboxAnswer>(`/test-inbox?phone=${encodeURIComponent(phone)}`);
  const code = inbox.body.messages[0]?.code;
  if (!code) throw new Error(`no code was sent to ${phone}`);
  return code;
}

export function startEnrollment(
  host: TestHost,
  issuerId: string,
  device: TestDevice,
  card: CardInput,
  options: { payerRef?: string; passkeys?: Array<{ id: string; publicKey: string }> } = {},
): Promise<Answer> {
  return device
    .enrollment(host.certificate(issuerId), card, { passkeys: options.passkeys, iat: host.clock.seconds() })
    .then((enrollment) =>
      host.acquirer("POST", `/issuers/${issuerId}/enrollments`, {
        enrollment,
        payerRef: options.payerRef ?? "usr_test",
      }),
    );
}

/** Start, read the code from the test inbox, verify: the card as enrolled. */
export async function enroll(
  host: TestHost,
  issuerId: string,
  device: TestDevice,
  card: CardInput & { phone: string },
  options: { payerRef?: string; passkeys?: Array<{ id: string; publicKey: string }> } = {},
): Promise<EnrolledCard> {
  const started = await startEnrollment(host, issuerId, device, card, options);
  if (started.status !== 201) throw new Error(`enrollment start answered ${started.status}: ${started.text}`);
  const code = await latestCode(host, card.phone);
  const verified = await host.acquirer<EnrolledCard>(
    "POST",
    `/issuers/${issuerId}/enrollments/${String(started.body["enrollmentId"])}/verify`,
    { code },
  );
  if (verified.status !== 200) throw new Error(`enrollment verify answered ${verified.status}: ${verified.text}`);
  return verified.body;
}

export function newPaymentId(): string {
  return `pay_${randomBytes(13).toString("hex").toUpperCase().slice(0, 26)}`;
}

export function termsFor(
  host: TestHost,
  issuerId: string,
  cardRef: string,
  overrides: Partial<ApprovalTerms> = {},
): ApprovalTerms {
  const iat = host.clock.seconds();
  return {
    aud: issuerId,
    cardRef,
    paymentId: newPaymentId(),
    merchantId: "mch_demo",
    merchantName: "Demo Mall",
    amount: 35_000,
    currency: "KRW",
    captureMethod: "manual",
    nonce: newNonce(),
    iat,
    exp: iat + 120,
    ...overrides,
  };
}

/** The acquirer's authorization request for terms the device signed, by default with a valid PIN statement. */
export async function paymentRequest(
  host: TestHost,
  device: TestDevice,
  card: { pan: string; expiry: string },
  terms: ApprovalTerms,
  options: { authentication?: AuthenticationResult; signed?: ApprovalTerms } = {},
): Promise<Record<string, unknown>> {
  const signed = options.signed ?? terms;
  const payment = await device.payment(host.certificate(terms.aud), signed, { pan: card.pan, expiry: card.expiry });
  const authentication =
    options.authentication ??
    ({
      method: "pin",
      statement: await host.pinStatement({
        aud: terms.aud,
        paymentId: terms.paymentId,
        termsHash: termsHashOf(signed),
        deviceKid: device.kid,
      }),
    } as const);
  const { paymentId, merchantId, merchantName, amount, currency, captureMethod, cardRef } = terms;
  return { paymentId, merchantId, merchantName, amount, currency, captureMethod, cardRef, payment, authentication };
}

export async function authorize(
  host: TestHost,
  issuerId: string,
  request: Record<string, unknown>,
): Promise<Answer<AuthorizationAnswer>> {
  return host.acquirer<AuthorizationAnswer>("POST", `/issuers/${issuerId}/authorizations`, request);
}
