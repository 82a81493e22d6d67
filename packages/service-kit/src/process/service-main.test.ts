import { describe, expect, it } from "vitest";
import { listeningUrl, stopInOrder } from "./service-main.ts";

describe("a service's start and stop", () => {
  it("names the port actually bound (0 asks for any free one)", () => {
    expect(listeningUrl("127.0.0.1", { port: 43_210 }, 0)).toBe("http://127.0.0.1:43210");
    expect(listeningUrl("127.0.0.1", null, 4000)).toBe("http://127.0.0.1:4000");
  });

  it("closes in order, once, whoever asks", async () => {
    const steps: string[] = [];
    const stop = stopInOrder(
      () => steps.push("timers"),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        steps.push("http");
      },
      () => steps.push("database"),
    );
    const [first, second] = [stop(), stop()];
    expect(first).toBe(second);
    await first;
    await stop();
    expect(steps).toEqual(["timers", "http", "database"]);
  });
});
