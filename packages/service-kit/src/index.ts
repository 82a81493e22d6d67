export * from "./database.ts";
export * from "./clock.ts";
export * from "./limit-slots.ts";
export * from "./named-statement.ts";
export * from "./config/index.ts";
export * from "./http/api-error.ts";
export * from "./process/service-main.ts";
export { DatabaseFolderInUseError, folderHolder, type FolderHolder } from "./embedded-database.ts";
export * from "./webauthn-assertion.ts";
