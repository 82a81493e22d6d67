/** The messenger app's wire schemas, as both the web app and the messenger read them. */
import { describe, expect, it } from "vitest";
import {
  chatHistoryQuerySchema,
  createChatInputSchema,
  sendChatMessageInputSchema,
  wsHelloSchema,
  wsServerFrameSchema,
} from "./messenger-api.ts";

const ACCOUNT = "acct_0123456789ABCDEFGHJKMNPQRS";

describe("messenger API schemas", () => {
  it("accepts chat text with line breaks up to 2000 characters, and nothing hidden or empty", () => {
    const ok = (text: string) => sendChatMessageInputSchema.safeParse({ clientMessageId: "c-12345678", text }).success;
    expect(ok("hello\nworld")).toBe(true);
    expect(ok("가".repeat(2000))).toBe(true);
    expect(ok("가".repeat(2001))).toBe(false);
    expect(ok("")).toBe(false);
    expect(ok(" \n\t")).toBe(false);
    for (const hidden of ["\u0000", "\u0007", "\r", "\u001b[31m", "\u009b", "\u202e", "\u2066"]) {
      expect(ok(`a${hidden}b`), JSON.stringify(hidden)).toBe(false);
    }
  });

  it("takes a UUID as clientMessageId and refuses other shapes", () => {
    const ok = (clientMessageId: string) =>
      sendChatMessageInputSchema.safeParse({ clientMessageId, text: "x" }).success;
    expect(ok("3b241101-e2bb-4255-8caf-4136c566a962")).toBe(true);
    expect(ok("short")).toBe(false);
    expect(ok("with space x")).toBe(false);
    expect(ok("x".repeat(65))).toBe(false);
  });

  it("reads history cursors from a query string, one at a time", () => {
    expect(chatHistoryQuerySchema.parse({ beforeSeq: "12", limit: "5" })).toEqual({ beforeSeq: 12, limit: 5 });
    expect(chatHistoryQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(chatHistoryQuerySchema.safeParse({ beforeSeq: "12", afterSeq: "3" }).success).toBe(false);
    expect(chatHistoryQuerySchema.safeParse({ afterSeq: "1.5" }).success).toBe(false);
  });

  it("trims a group title and refuses member ids that are not account ids", () => {
    expect(createChatInputSchema.parse({ memberIds: [ACCOUNT], title: " Trip " }).title).toBe("Trip");
    expect(createChatInputSchema.safeParse({ memberIds: ["bob"] }).success).toBe(false);
    expect(createChatInputSchema.safeParse({ memberIds: Array(51).fill(ACCOUNT) }).success).toBe(false);
  });

  it("knows the hello frame strictly and the server's frames by type", () => {
    expect(wsHelloSchema.safeParse({ type: "hello", sessionToken: "mss_x", afterSeq: 0 }).success).toBe(true);
    expect(wsHelloSchema.safeParse({ type: "hello", sessionToken: "mss_x", afterSeq: 0, x: 1 }).success).toBe(false);
    expect(wsHelloSchema.safeParse({ type: "hello", sessionToken: "mss_x" }).success).toBe(false);
    expect(wsServerFrameSchema.parse({ type: "ready", seq: 4 })).toEqual({ type: "ready", seq: 4 });
    expect(wsServerFrameSchema.safeParse({ type: "typing" }).success).toBe(false);
  });
});
