/**
 * @mpay/wallet: the device wallet SDK (DESIGN.md, "Split custody" and "Authentication without plugins"). One code
 * base for browsers and Node: WebCrypto (`globalThis.crypto.subtle`), `jose` and `@serenity-kit/opaque`, nothing
 * from `node:`. The Node-only file key store is exported from `@mpay/wallet/node`.
 */
export {
  PAY_CLIENT_ERROR_CODES,
  PayApiError,
  WalletError,
  isPayApiError,
  isWalletError,
  WALLET_ERROR_CODES,
  type PayClientErrorCode,
  type WalletErrorCode,
} from "./errors.ts";
export {
  Wallet,
  type ApprovePaymentOptions,
  type PendingCardEnrollment,
  type PendingPinReset,
  type PendingRecovery,
  type WalletOptions,
} from "./wallet.ts";
export {
  certifiedIssuer,
  certifiedIssuerFor,
  checkCardDetails,
  enrollmentJwe,
  mandateJwe,
  openRelease,
  openWithShares,
  parseCardRecord,
  parseProfileRecord,
  paymentJwe,
  sealNewCard,
  type CardDetails,
  type ReleasePayload,
  type SealedCard,
} from "./card-crypto.ts";
export {
  PayClient,
  type ApprovalChallenge,
  type Device,
  type DeviceStatus,
  type Payer,
  type PayerSession,
  type PayClientOptions,
  type PaymentApproval,
  type PaymentOutcome,
  type Mandate,
  type PendingChange,
  type PinProof,
  type PinReset,
  type PinResetStarted,
  type Passkey,
  type ReleasedApproval,
  type Card,
  type CardEnrollment,
  type IssuerListing,
  type PinLogin,
  type PinLoginPurpose,
  type PinStatus,
  type SignInStart,
  type UserVerification,
} from "./pay-client.ts";
export { wipe, withWiped } from "./secrets.ts";
export { keyExtractabilityFor, type JsonValue, type KeyStore, type StoredRecord } from "./key-store.ts";
export { IndexedDbKeyStore, type IndexedDbKeyStoreOptions } from "./indexed-db-key-store.ts";
export {
  APPROVAL_JWS_TYPE,
  DEVICE_KEY_RECORD,
  DEVICE_STATEMENT_JWS_TYPE,
  createDeviceKey,
  deviceKeyId,
  exportDevicePublicJwk,
  loadDeviceKey,
  signStatement,
  signTerms,
  type DeviceKey,
  type DevicePublicJwk,
  type DeviceStatement,
  type SigningOptions,
} from "./device-key.ts";
export {
  DEFAULT_PIN_KEY_STRETCHING,
  assertPinFormat,
  finishPinLogin,
  finishPinRegistration,
  pinChallengeMac,
  pinChallengeMessage,
  startPinLogin,
  startPinRegistration,
  termsHashOf,
  verifyPinChallengeMac,
  type PinKeyStretching,
  type PinLoginFinish,
  type PinLoginStart,
  type PinLoginState,
  type PinOptions,
  type PinRegistrationFinish,
  type PinRegistrationStart,
  type PinRegistrationState,
} from "./pin.ts";
