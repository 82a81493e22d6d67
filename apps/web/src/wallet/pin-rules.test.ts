import { describe, expect, it } from "vitest";
import { isGuessablePin } from "./pin-rules.ts";

describe("guessable PINs", () => {
  it("refuses one repeated digit and runs up or down", () => {
    for (const pin of ["000000", "777777", "123456", "654321", "890123", "210987"])
      expect(isGuessablePin(pin)).toBe(true);
  });
  it("accepts the rest", () => {
    for (const pin of ["204816", "135790", "112233", "918273"]) expect(isGuessablePin(pin)).toBe(false);
  });
});
