/** @mpay/merchant: the merchant API client, its errors and types, and webhook verification. README.md. */
export { MPay, type MPayOptions } from "./client.ts";
export {
  APIError,
  AuthenticationError,
  ConflictError,
  ConnectionError,
  InvalidRequestError,
  MPayError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServiceUnavailableError,
} from "./errors.ts";
export { ListPromise, type Page } from "./pagination.ts";
export type { RequestOptions } from "./transport.ts";
export {
  verifyWebhook,
  webhookTestHeaders,
  WebhookVerificationError,
  type TestHeadersInput,
  type VerifyOptions,
  type WebhookHeaders,
  type WebhookVerificationReason,
} from "./webhooks.ts";
export type * from "./types.ts";
