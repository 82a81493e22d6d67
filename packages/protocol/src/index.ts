export * from "./errors.ts";
export * from "./currency.ts";
export * from "./ids.ts";
export * from "./payment.ts";
export * from "./secret.ts";
export * from "./approval.ts";
export * from "./issuer.ts";
export * from "./payer-details.ts";
