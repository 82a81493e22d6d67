/**
 * The production build (apps/web/dist) as the server serves it: read into memory once at start, index.html with
 * subresource integrity. Serving from memory means a rebuild while the server runs (another `npm start`, a test
 * run) never hands a browser half of one build and half of another, and no request path ever reaches the disk.
 */
import { readdir, readFile } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { withIntegrity } from "./integrity.ts";

export interface SiteFile {
  body: Uint8Array;
  contentType: string;
  /** A content-hashed name (Vite's `assets/`): the same URL always has the same bytes, so it may be cached forever. */
  hashed: boolean;
}

export interface Site {
  /** By URL path: `/index.html`, `/assets/index-DdadJJju.js`, … */
  files: ReadonlyMap<string, SiteFile>;
  /** index.html with integrity attributes: what every app path answers. */
  index: SiteFile;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
};

export class SiteMissingError extends Error {
  override readonly name = "SiteMissingError";
}

async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

/** Reads the build in `distDir`; a missing build is a SiteMissingError that says how to make one. */
export async function loadSite(distDir: string): Promise<Site> {
  let paths: string[];
  try {
    paths = await listFiles(distDir);
  } catch {
    paths = [];
  }
  const files = new Map<string, SiteFile>();
  for (const path of paths) {
    const urlPath = `/${relative(distDir, path).split(sep).join("/")}`;
    // Dot files (editor or build leftovers) are never part of the site.
    if (urlPath.split("/").some((part) => part.startsWith("."))) continue;
    files.set(urlPath, {
      body: await readFile(path),
      contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
      hashed: urlPath.startsWith("/assets/"),
    });
  }
  const built = files.get("/index.html");
  if (!built)
    throw new SiteMissingError(`no web app build in ${distDir}: npm start builds it (or: npm run build -w @mpay/web)`);
  const html = withIntegrity(new TextDecoder().decode(built.body), (path) => files.get(path)?.body);
  const index: SiteFile = { ...built, body: new TextEncoder().encode(html) };
  files.set("/index.html", index);
  return { files, index };
}
