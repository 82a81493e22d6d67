/** `npm start` runs this: the web app (hosted checkout, messenger, wallet) on MPAY_WEB_URL's port (4300). */
import { runServiceMain } from "@mpay/service-kit/process";
import { loadWebServerConfig } from "./config.ts";
import { startWebServer } from "./server.ts";

await runServiceMain({
  name: "web",
  start: () => startWebServer(loadWebServerConfig()),
  started(server) {
    const { config } = server;
    process.stdout.write(`MPay web app listening on ${server.url} (public URL ${config.webUrl})\n`);
    process.stdout.write(
      `  pay server ${config.payUrl}  ·  messenger ${config.messengerUrl}  ·  roots ${config.trustedRootsFile}\n`,
    );
  },
  stopping: (_server, signal) => process.stdout.write(`web: ${signal}, shutting down\n`),
});
