/**
 * Every test file: a PGlite opened on a new database (memory, or a folder without a cluster yet) starts from the
 * run's fresh-cluster tarball (pglite-template.global.ts) instead of running `initdb` itself. Everything else is
 * PGlite as it is: a folder that already holds a cluster opens as it is, and processes a test starts (the CLI, the
 * servers of the e2e drills) run `initdb` as in production, which never loads this file.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { inject, vi } from "vitest";

vi.mock("@electric-sql/pglite", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@electric-sql/pglite")>();
  type Options = NonNullable<Parameters<typeof actual.PGlite.create>[1]>;
  let template: Promise<Blob> | undefined;
  const fresh = (dataDir: string | undefined) =>
    dataDir === undefined || dataDir.startsWith("memory://") || !existsSync(join(dataDir, "PG_VERSION"));
  async function create(dataDirOrOptions?: string | Options, more?: Options) {
    const options: Options =
      typeof dataDirOrOptions === "string" ? { ...more, dataDir: dataDirOrOptions } : { ...dataDirOrOptions };
    if (options.loadDataDir === undefined && fresh(options.dataDir)) {
      template ??= readFile(inject("pgliteTemplate")).then((bytes) => new Blob([bytes]));
      options.loadDataDir = await template;
    }
    return actual.PGlite.create(options);
  }
  // The class itself (`new`, `instanceof`, its other statics) is untouched: only `create` starts from the template.
  const PGlite = new Proxy(actual.PGlite, {
    get: (target, property, receiver) => (property === "create" ? create : Reflect.get(target, property, receiver)),
  });
  return { ...actual, PGlite };
});
