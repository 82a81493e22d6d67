/** Friends over real HTTP: adding by phone number, the answers' codes, the list, and the lookup limit. */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@mpay/service-kit";
import type { Friend, FriendList, MessengerAccount } from "@mpay/protocol";
import { testBackends } from "../testing/databases.ts";
import { openTestMessenger, type TestMessenger } from "../testing/messenger.ts";
import { createAccount, newPhoneNumber, type TestAccount } from "../testing/rp.ts";
import { callApi, signIn } from "../testing/app-client.ts";

const ADDS_PER_WINDOW = 5;

describe.each(testBackends())("friends [%s]", (backend) => {
  let messenger: TestMessenger;
  let alice: TestAccount;
  let bob: TestAccount;
  let carol: TestAccount;
  let aliceToken: string;
  const api = <T>(method: string, path: string, init: { token?: string; body?: unknown } = {}) =>
    callApi<T>(messenger.url, method, path, init);

  beforeAll(async () => {
    messenger = await openTestMessenger(backend, {
      overrides: {
        signupRateLimitPerMinute: 1000,
        chatLimits: {
          messagesPerWindow: 1000,
          messageWindowSeconds: 10,
          friendAddsPerWindow: ADDS_PER_WINDOW,
          friendAddWindowSeconds: 3600,
        },
      },
    });
    [alice, bob, carol] = await Promise.all([
      createAccount(messenger.url, "Alice"),
      createAccount(messenger.url, "Bob"),
      createAccount(messenger.url, "Carol"),
    ]);
    aliceToken = await signIn(messenger.url, alice);
  });
  afterAll(async () => {
    await messenger?.close();
  });

  it("answers GET /api/me with the session's account, and 401 without a session", async () => {
    const me = await api<MessengerAccount>("GET", "/api/me", { token: aliceToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      object: "account",
      id: alice.id,
      phoneNumber: alice.phoneNumber,
      displayName: "Alice",
    });
    expect(me.headers.get("cache-control")).toBe("no-store");
    const anonymous = await api("GET", "/api/me");
    expect([anonymous.status, anonymous.body.error?.code]).toEqual([401, "session_invalid"]);
  });

  it("adds a friend by phone number (any separators): 201 the first time, 200 after, listed once", async () => {
    const spaced = `${bob.phoneNumber.slice(0, 3)} ${bob.phoneNumber.slice(3, 5)}-${bob.phoneNumber.slice(5)}`;
    const first = await api<Friend>("POST", "/api/friends", { token: aliceToken, body: { phoneNumber: spaced } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ object: "friend", id: bob.id, displayName: "Bob", phoneNumber: bob.phoneNumber });
    const again = await api<Friend>("POST", "/api/friends", {
      token: aliceToken,
      body: { phoneNumber: bob.phoneNumber },
    });
    expect([again.status, again.body.id]).toEqual([200, bob.id]);
    await api("POST", "/api/friends", { token: aliceToken, body: { phoneNumber: carol.phoneNumber } });

    const list = await api<FriendList>("GET", "/api/friends", { token: aliceToken });
    expect(list.status).toBe(200);
    expect(list.body.object).toBe("list");
    expect(list.body.data.map((friend) => friend.displayName)).toEqual(["Bob", "Carol"]);
    // One way, like an address book: Bob's list is his own.
    const bobToken = await signIn(messenger.url, bob);
    expect((await api<FriendList>("GET", "/api/friends", { token: bobToken })).body.data).toEqual([]);
  });

  it("refuses yourself, an unknown number and bad input with stable codes, and changes nothing", async () => {
    const before = await friendRows();
    const cases: Array<[unknown, number, string, string | undefined]> = [
      [{ phoneNumber: alice.phoneNumber }, 400, "friend_invalid", "phoneNumber"],
      [{ phoneNumber: newPhoneNumber() }, 404, "account_not_found", "phoneNumber"],
      [{ phoneNumber: "010-1234-5678" }, 400, "phone_number_invalid", "phoneNumber"],
      [{ phoneNumber: 821012345678 }, 400, "phone_number_invalid", "phoneNumber"],
      [{}, 400, "parameter_missing", "phoneNumber"],
      [{ phoneNumber: bob.phoneNumber, note: "hi" }, 400, "parameter_unknown", "note"],
      ["{nope", 400, "body_invalid_json", undefined],
    ];
    for (const [body, status, code, param] of cases) {
      const answer = await api("POST", "/api/friends", { token: aliceToken, body });
      expect([answer.status, answer.body.error?.code, answer.body.error?.param], JSON.stringify(body)).toEqual([
        status,
        code,
        param,
      ]);
    }
    const anonymous = await api("POST", "/api/friends", { body: { phoneNumber: bob.phoneNumber } });
    expect([anonymous.status, anonymous.body.error?.code]).toEqual([401, "session_invalid"]);
    expect(await friendRows()).toBe(before);
  });

  it("limits lookups per account, claimed before the lookup: of many simultaneous adds only the limit run", async () => {
    const dave = await createAccount(messenger.url, "Dave");
    const daveToken = await signIn(messenger.url, dave);
    // Unknown and known numbers alike: a lookup is a lookup.
    const numbers = Array.from({ length: 12 }, (_, i) => (i === 0 ? bob.phoneNumber : newPhoneNumber()));
    const answers = await Promise.all(
      numbers.map((phoneNumber) => api("POST", "/api/friends", { token: daveToken, body: { phoneNumber } })),
    );
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited).toHaveLength(12 - ADDS_PER_WINDOW);
    expect(limited[0]?.body.error?.code).toBe("rate_limited");
    expect(limited[0]?.headers.get("retry-after")).toBe("3600");
    // Adding yourself is refused before any lookup, so it is still a clear 400, not a 429.
    const self = await api("POST", "/api/friends", { token: daveToken, body: { phoneNumber: dave.phoneNumber } });
    expect(self.body.error?.code).toBe("friend_invalid");
    // Another account's budget is its own.
    const carolToken = await signIn(messenger.url, carol);
    expect(
      (await api("POST", "/api/friends", { token: carolToken, body: { phoneNumber: bob.phoneNumber } })).status,
    ).toBe(201);
  });

  it("logs no phone number a friend was added by, and no session token", () => {
    const log = messenger.logLines.join("\n");
    expect(log).toContain("friend_added");
    for (const secret of [bob.phoneNumber, carol.phoneNumber, aliceToken, alice.password])
      expect(log).not.toContain(secret);
  });

  async function friendRows(): Promise<number> {
    const [row] = await queryRows<{ n: number }>(
      messenger.server.system.database.db,
      sql`select count(*)::int as n from friends`,
    );
    return Number(row?.n);
  }
});
