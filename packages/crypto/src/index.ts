export * from "./jose-policy.ts";
export * from "./issuer-certificate.ts";
