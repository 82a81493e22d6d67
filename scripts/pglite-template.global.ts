/**
 * Test run setup: one fresh PGlite cluster (what `initdb` makes), made once and kept as a tarball for the run.
 * pglite-template.setup.ts gives it to every new PGlite a test opens, instead of each running `initdb` in WASM
 * itself (about 3 s of CPU each, and the suite opens hundreds). The cluster is the same one `initdb` would make:
 * empty, not migrated, from the same PGlite build, so migrations and every query still run for real.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The fresh cluster's tarball (PGlite `dumpDataDir`), a file of this run. */
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "mpay-pglite-template-"));
  const file = join(dir, "fresh-cluster.tar");
  const cluster = await PGlite.create("memory://");
  try {
    const tarball = await cluster.dumpDataDir("none");
    await writeFile(file, Buffer.from(await tarball.arrayBuffer()));
  } finally {
    await cluster.close();
  }
  project.provide("pgliteTemplate", file);
  return () => rm(dir, { recursive: true, force: true });
}
