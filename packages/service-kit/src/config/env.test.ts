import { describe, expect, it } from "vitest";
import { ConfigError, envBoolean, envInt, envList, envPort, envUrl } from "./env.ts";

describe("env helpers", () => {
  it("read integers, with the default when unset or empty, and name the variable when wrong", () => {
    expect(envInt({}, "N", 7)).toBe(7);
    expect(envInt({ N: "" }, "N", 7)).toBe(7);
    expect(envInt({ N: "12" }, "N", 7, 1)).toBe(12);
    expect(() => envInt({ N: "1.5" }, "N", 7)).toThrow('N must be an integer ≥ 0, got "1.5"');
    expect(() => envInt({ N: "0" }, "N", 7, 1)).toThrow(/N must be an integer ≥ 1/);
    expect(() => envInt({ N: "ten" }, "N", 7)).toThrow(ConfigError);
  });

  it("read ports 0-65535 and refuse the ones browsers and fetch block, naming the variable and the reason", () => {
    expect(envPort({}, "PAY_PORT", 4000)).toBe(4000);
    expect(envPort({ PAY_PORT: "0" }, "PAY_PORT", 4000)).toBe(0);
    expect(envPort({ PAY_PORT: "65535" }, "PAY_PORT", 4000)).toBe(65_535);
    expect(() => envPort({ PAY_PORT: "65536" }, "PAY_PORT", 4000)).toThrow(
      'PAY_PORT must be a port number (0-65535), got "65536"',
    );
    expect(() => envPort({ PAY_PORT: "http" }, "PAY_PORT", 4000)).toThrow(/PAY_PORT/);
    for (const port of ["6000", "6665", "6669", "5060", "10080", "22"]) {
      let error: unknown;
      try {
        envPort({ PAY_PORT: port }, "PAY_PORT", 4000);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe("PAY_PORT");
      expect((error as Error).message).toMatch(
        new RegExp(
          `^PAY_PORT: port ${port} cannot be used: browsers and fetch refuse to connect to it \\(a "bad port" of the Fetch standard`,
        ),
      );
    }
    expect(() => envPort({}, "PAY_PORT", 6000)).toThrow(/PAY_PORT: port 6000/);
  });

  it("read on/off switches", () => {
    expect(envBoolean({}, "X", true)).toBe(true);
    expect(envBoolean({ X: "off" }, "X", true)).toBe(false);
    expect(envBoolean({ X: "YES" }, "X", false)).toBe(true);
    expect(() => envBoolean({ X: "maybe" }, "X", false)).toThrow('X must be on or off, got "maybe"');
  });

  it("read lists and URLs", () => {
    expect(envList({ L: " a, ,b ," }, "L")).toEqual(["a", "b"]);
    expect(envList({}, "L")).toEqual([]);
    expect(envUrl({ U: "https://pay.example/base//" }, "U", "http://x")).toBe("https://pay.example/base");
    expect(envUrl({}, "U", "http://127.0.0.1:4000")).toBe("http://127.0.0.1:4000");
    expect(envUrl({}, "U")).toBeUndefined();
    expect(() => envUrl({ U: "ftp://files.example" }, "U")).toThrow(
      'U must be an http(s) URL, got "ftp://files.example"',
    );
    expect(() => envUrl({ U: "http://127.0.0.1:6667" }, "U")).toThrow(/^U: port 6667 cannot be used: .*ircu/);
    // A scheme's default port counts: plain http on 80 is fine, not an explicit bad one.
    expect(envUrl({ U: "http://pay.example" }, "U")).toBe("http://pay.example");
  });
});
