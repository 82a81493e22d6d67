/**
 * The payer API (the wallet's routes, docs/payer-api.md): every request and answer schema, defined once, so the pay
 * server's route schemas (and its OpenAPI document) and the wallet's client cannot drift apart. One file per
 * resource, as the routes and the client are split.
 */
export * from "./common.ts";
export * from "./sessions.ts";
export * from "./devices.ts";
export * from "./pending-changes.ts";
export * from "./pin.ts";
export * from "./cards.ts";
export * from "./payments.ts";
export * from "./checkout.ts";
export * from "./mandates.ts";
export * from "./recovery.ts";
export * from "./passkeys.ts";
