/**
 * The web origin's HTTP server (node:http, no framework: it serves files from memory and one JSON document).
 * Every answer carries the security headers; app paths (anything that is not a file) answer index.html so the
 * client-side router shows the screen; hashed assets are cached for a year, index.html and /config.json never.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { listeningUrl, stopInOrder, type RunningService } from "@mpay/service-kit/process";
import { withBuildLock } from "./build-lock.ts";
import type { WebServerConfig } from "./config.ts";
import { securityHeaders } from "./security-headers.ts";
import { loadSite, type Site, type SiteFile } from "./site.ts";
import { readTrustedRoots, webConfigDocument, type WebConfigDocument } from "./web-config.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

export interface WebApp {
  site: Site;
  document: WebConfigDocument;
  headers: Record<string, string>;
}

function answerError(response: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { type: "invalid_request_error", code, message } });
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  response.end(body);
}

function answerFile(request: IncomingMessage, response: ServerResponse, file: SiteFile, cacheControl: string): void {
  response.writeHead(200, {
    "content-type": file.contentType,
    "content-length": String(file.body.byteLength),
    "cache-control": cacheControl,
  });
  response.end(request.method === "HEAD" ? undefined : file.body);
}

/** The request handler, apart from the listening, so tests can drive it on any port. */
export function webRequestHandler(app: WebApp): (request: IncomingMessage, response: ServerResponse) => void {
  const configBody = new TextEncoder().encode(JSON.stringify(app.document));
  const configFile: SiteFile = { body: configBody, contentType: "application/json; charset=utf-8", hashed: false };
  return (request, response) => {
    for (const [name, value] of Object.entries(app.headers)) response.setHeader(name, value);
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      answerError(response, 405, "method_not_allowed", "The web app answers GET and HEAD only");
      return;
    }
    let path: string;
    try {
      path = new URL(request.url ?? "/", "http://web.invalid").pathname;
    } catch {
      answerError(response, 400, "path_invalid", "The request path is not a URL path");
      return;
    }
    if (path === "/config.json") return answerFile(request, response, configFile, "no-store");
    const file = app.site.files.get(path);
    if (file && path !== "/index.html")
      return answerFile(request, response, file, file.hashed ? IMMUTABLE : REVALIDATE);
    // A missing hashed asset is an old or mistyped script URL, never an app screen: HTML there would only confuse.
    if (path.startsWith("/assets/")) return answerError(response, 404, "asset_not_found", `No asset at ${path}`);
    answerFile(request, response, app.site.index, REVALIDATE);
  };
}

export interface RunningWebServer extends RunningService {
  config: WebServerConfig;
}

/** Loads the build and the trusted roots (a problem with either stops the start), then listens. */
export async function startWebServer(config: WebServerConfig): Promise<RunningWebServer> {
  // Under the build lock: a build running now (another npm start, a test run) finishes before the files are read.
  const [site, trustedRoots] = await Promise.all([
    withBuildLock(config.distDir, () => loadSite(config.distDir)),
    readTrustedRoots(config.trustedRootsFile),
  ]);
  const app: WebApp = { site, document: webConfigDocument(config, trustedRoots), headers: securityHeaders(config) };
  const server = createServer(webRequestHandler(app));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const url = listeningUrl(config.host, server.address() as AddressInfo | null, config.port);
  const stop = stopInOrder(
    () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  );
  return { url, config, stop };
}
