export * from "./database.ts";
export * from "./clock.ts";
export * from "./limit-slots.ts";
export { DatabaseFolderInUseError, folderHolder, type FolderHolder } from "./embedded-database.ts";
