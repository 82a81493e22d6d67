export * from "./database.ts";
export * from "./clock.ts";
