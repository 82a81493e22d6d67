export * from "./jose-policy.ts";
export * from "./issuer-certificate.ts";
export * from "./shares.ts";
export * from "./records.ts";
export * from "./network-root.ts";
export * from "./statement-key-certificate.ts";
export * from "./audit-head.ts";
