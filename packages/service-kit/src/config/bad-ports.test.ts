import { describe, expect, it } from "vitest";
import { BAD_PORTS, blockedPortReason } from "./bad-ports.ts";

describe("bad ports", () => {
  it("are the ports Node's own fetch refuses, and only those", async () => {
    // A closed port answers "connection refused"; a bad port is refused before any connection is tried.
    const refusedBeforeConnecting = async (port: number) => {
      const error = await fetch(`http://127.0.0.1:${port}/`).then(
        () => null,
        (caught: unknown) => caught as Error & { cause?: Error },
      );
      return error?.cause?.message === "bad port";
    };
    for (const port of [6000, 6665, 6669, 5060, 5061, 10080, 1, 4190]) {
      expect(BAD_PORTS.has(port)).toBe(true);
      expect(await refusedBeforeConnecting(port)).toBe(true);
    }
    for (const port of [4000, 4100, 4200, 4300, 5000, 6001, 6670, 8080]) {
      expect(BAD_PORTS.has(port)).toBe(false);
      expect(await refusedBeforeConnecting(port)).toBe(false);
    }
    expect(BAD_PORTS.size).toBe(82);
  });

  it("say why, naming the protocol the port is kept for", () => {
    expect(blockedPortReason(6000)).toMatch(
      /browsers and fetch refuse to connect to it .*kept for x11: https:\/\/fetch\.spec\.whatwg\.org\/#port-blocking/,
    );
    expect(blockedPortReason(5060)).toMatch(/sip/);
    expect(blockedPortReason(4000)).toBeNull();
    // 0 asks the system for any free port: for listening in tests, never refused.
    expect(blockedPortReason(0)).toBeNull();
  });
});
