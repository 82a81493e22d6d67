import { describe, expect, it } from "vitest";
import { csvCell, csvLine } from "./csv.ts";

describe("CSV cells", () => {
  it("quotes as RFC 4180 says: commas, quotes and line breaks in double quotes, quotes doubled", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(null)).toBe("");
    expect(csvCell(-1500)).toBe("-1500");
    expect(csvLine(["a", 1, null, "b,c"])).toBe('a,1,,"b,c"\r\n');
  });

  it("neutralises what a spreadsheet would run: = + - @ tab and carriage return first get a leading '", () => {
    for (const formula of ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
      expect(csvCell(formula).replace(/^"/, "").startsWith("'"), formula).toBe(true);
    expect(csvCell('=HYPERLINK("x","y")')).toBe('"\'=HYPERLINK(""x"",""y"")"');
    expect(csvCell("a=1")).toBe("a=1");
  });
});
