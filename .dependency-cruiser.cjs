/**
 * The dependency rules of the code base (issue 8), checked by `npm test` (`npm run check:deps`).
 *
 * Product code is every non-test file under packages/ and services/ except the test harnesses (packages/testing,
 * a service's own `src/testing/`). Tests, e2e/, bench/ and scripts/ may import anything; they are not cruised as
 * sources, but the harnesses are, so product code reaching them is caught.
 */
const PAY = "^services/pay/src/";
const PAY_INFRASTRUCTURE = `${PAY}(db|keys|http|audit)/`;
const TEST_FILE = "\\.(test|case)\\.ts$|\\.fixture\\.ts$|/test-support\\.ts$";
const HARNESS = "^packages/testing/|^services/[^/]+/src/testing/|^packages/[^/]+/src/testing/|^services/[^/]+/scripts/";

module.exports = {
  forbidden: [
    {
      name: "no-folder-cycle",
      comment:
        "Folders depend in one direction: infrastructure → contexts → orchestration → wiring. A cycle between folders means two contexts know each other; one of them must register a callback in system.ts instead.",
      severity: "error",
      scope: "folder",
      from: { path: "^(services|packages)/", pathNot: HARNESS },
      to: { circular: true, pathNot: HARNESS },
    },
    {
      name: "no-module-cycle",
      comment: "Modules import each other in one direction.",
      severity: "error",
      from: { path: "^(services|packages)/", pathNot: HARNESS },
      to: { circular: true, pathNot: HARNESS },
    },
    {
      name: "infrastructure-imports-no-context",
      comment:
        "db, keys, audit and http serve every context and know none of them: a context registers what infrastructure needs of it (resealers, authentication) in system.ts.",
      severity: "error",
      from: { path: PAY_INFRASTRUCTURE },
      to: { path: PAY, pathNot: PAY_INFRASTRUCTURE },
    },
    {
      name: "context-calls-services-not-stores",
      comment:
        "A context calls another context's service, never its store: the owner of a table is the only one to read or write it.",
      severity: "error",
      from: { path: `${PAY}([^/]+)/`, pathNot: HARNESS },
      to: { path: `${PAY}[^/]+/store\\.ts$`, pathNot: `${PAY}$1/` },
    },
    {
      name: "tables-belong-to-their-context",
      comment: "Only a context's own code (or another schema file, for a foreign key) names its tables.",
      severity: "error",
      from: { path: `${PAY}([^/]+)/`, pathNot: `${PAY}[^/]+/schema\\.ts$` },
      to: { path: `${PAY}[^/]+/schema\\.ts$`, pathNot: `${PAY}$1/` },
    },
    {
      name: "product-imports-no-test-harness",
      comment: "Test harnesses hold test keys and start other services: product code never links them.",
      severity: "error",
      from: { path: "^(services|packages)/", pathNot: HARNESS },
      to: { path: HARNESS },
    },
    {
      name: "service-imports-no-other-service",
      comment: "Services talk over their protocols only: a service never links another service's source.",
      severity: "error",
      from: { path: "^services/([^/]+)/" },
      to: { path: "^services/", pathNot: "^services/$1/" },
    },
    {
      name: "packages-import-no-service",
      comment: "Packages (the wallet SDK above all) are shipped apart from the servers: they never link server code.",
      severity: "error",
      from: { path: "^packages/", pathNot: HARNESS },
      to: { path: "^services/" },
    },
    {
      name: "protocol-is-a-leaf",
      comment: "The protocol is what every side agrees on: it imports no workspace code.",
      severity: "error",
      from: { path: "^packages/protocol/" },
      to: { path: "^(packages|services)/", pathNot: "^packages/protocol/" },
    },
    {
      name: "crypto-is-a-leaf",
      comment: "Cryptography depends only on the protocol's types, never on a service or the wallet.",
      severity: "error",
      from: { path: "^packages/crypto/" },
      to: { path: "^(packages|services)/", pathNot: "^packages/(crypto|protocol)/" },
    },
    {
      name: "web-imports-only-packages",
      comment:
        "The web app runs in the payer's browser from its own origin: it talks to the services over HTTP only and never links their source, a test harness or the test network's keys.",
      severity: "error",
      from: { path: "^apps/web/" },
      to: { path: "^(services/|packages/testing/|packages/[^/]+/src/testing/)" },
    },
    {
      name: "example-shop-uses-only-the-merchant-sdk",
      comment:
        "examples/ are merchants' shops: of MPay they use the merchant SDK (@mpay/merchant) only, as a shop outside this repository would — no other package, no service, no web app code, no test harness. Their tests may start a real pay server; they are not cruised.",
      severity: "error",
      from: { path: "^examples/" },
      to: { path: "^(packages|services|apps)/", pathNot: "^packages/merchant/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import that does not resolve is a typo or a missing dependency.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: `node_modules|${TEST_FILE}` },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    combinedDependencies: false,
    preserveSymlinks: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
