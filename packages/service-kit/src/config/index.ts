/** Configuration from the environment, the same way in every MPay process (the services, npm start, the demo). */
export * from "./env.ts";
export * from "./bad-ports.ts";
export * from "./system-urls.ts";
export * from "./relying-party.ts";
