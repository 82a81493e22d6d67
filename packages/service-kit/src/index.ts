export * from "./database.ts";
export * from "./clock.ts";
export * from "./limit-slots.ts";
