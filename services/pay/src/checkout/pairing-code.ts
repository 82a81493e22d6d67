/**
 * The pairing code of a payment: four characters (K7P2) that the hosted checkout shows beside its QR code and that
 * the phone's pay sheet and the pushed message show too, so the payer sees both screens are the same payment.
 *
 * Derived from the payment id instead of stored: whoever can see the code can see the payment id anyway (it is
 * the checkout's capability, 80 random bits), and a derived code needs no table, no write on a GET, and is the
 * same on every server. 32 characters without 0/O and 1/I, so it reads aloud; 20 bits is a visual check, not a
 * secret.
 */
import { createHash } from "node:crypto";

const ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

export function pairingCode(paymentId: string): string {
  const digest = createHash("sha256").update(`mpay/v1|pairing-code|${paymentId}`).digest();
  let code = "";
  for (let i = 0; i < 4; i++) code += ALPHABET[(digest[i] ?? 0) & 31];
  return code;
}
