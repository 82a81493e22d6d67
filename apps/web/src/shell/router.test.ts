/**
 * The router's path store against an in-memory history (apps/web's tests run in Node, without a DOM): what
 * `usePath` relies on through useSyncExternalStore — the path read at any time is the newest, every navigation
 * and every back/forward reaches each subscriber, and an unsubscribed listener hears nothing more.
 */
import { describe, expect, it } from "vitest";
import { createPathStore, match, type HistoryWindow } from "./router.ts";

/** A tab's session history: push, replace, and back (which fires popstate as a browser does). */
function memoryWindow(start: string) {
  const target = new EventTarget();
  const entries = [start];
  let index = 0;
  const listeners = new Set<() => void>();
  const win: HistoryWindow & { back(): void; listenerCount(): number } = {
    location: {
      get pathname() {
        return entries[index] ?? "/";
      },
    },
    history: {
      pushState: (_data: unknown, _unused: string, url?: string | URL | null) => {
        entries.splice(index + 1, entries.length, String(url));
        index += 1;
      },
      replaceState: (_data: unknown, _unused: string, url?: string | URL | null) => {
        entries[index] = String(url);
      },
    },
    addEventListener: (type, listener) => {
      listeners.add(listener);
      target.addEventListener(type, listener);
    },
    removeEventListener: (type, listener) => {
      listeners.delete(listener);
      target.removeEventListener(type, listener);
    },
    back: () => {
      index = Math.max(0, index - 1);
      target.dispatchEvent(new Event("popstate"));
    },
    listenerCount: () => listeners.size,
  };
  return win;
}

describe("the path store", () => {
  it("reads the newest path after a navigation made before anyone subscribed (render → navigate → effect)", () => {
    const win = memoryWindow("/messenger");
    const store = createPathStore(win);
    const rendered = store.current();
    store.navigate("/messenger/signin", { replace: true });
    // useSyncExternalStore subscribes, then compares the snapshot with the rendered one and renders again.
    const unsubscribe = store.subscribe(() => {});
    expect(rendered).toBe("/messenger");
    expect(store.current()).toBe("/messenger/signin");
    unsubscribe();
  });

  it("tells every subscriber of navigate, replace and back, and nothing once unsubscribed", () => {
    const win = memoryWindow("/");
    const store = createPathStore(win);
    const first: string[] = [];
    const second: string[] = [];
    const stopFirst = store.subscribe(() => first.push(store.current()));
    const stopSecond = store.subscribe(() => second.push(store.current()));

    store.navigate("/wallet");
    store.navigate("/wallet/cards", { replace: true });
    win.back();
    expect(first).toEqual(["/wallet", "/wallet/cards", "/"]);
    expect(second).toEqual(first);

    stopFirst();
    store.navigate("/messenger");
    win.back();
    expect(first).toHaveLength(3);
    expect(second).toEqual(["/wallet", "/wallet/cards", "/", "/messenger", "/"]);

    stopSecond();
    expect(win.listenerCount()).toBe(0);
  });

  it("keeps two subscriptions of the same listener apart (React subscribes twice in development)", () => {
    const win = memoryWindow("/");
    const store = createPathStore(win);
    let calls = 0;
    const listener = () => {
      calls += 1;
    };
    const stop = store.subscribe(listener);
    const stopAgain = store.subscribe(listener);
    stop();
    store.navigate("/checkout/pay_1");
    expect(calls).toBe(1);
    stopAgain();
    store.navigate("/");
    expect(calls).toBe(1);
    expect(win.listenerCount()).toBe(0);
  });
});

describe("match", () => {
  it("takes parameters and a rest, and refuses another path", () => {
    expect(match("/checkout/:id", "/checkout/pay_1")).toEqual({ id: "pay_1" });
    expect(match("/wallet/*", "/wallet/cards/x")).toEqual({});
    expect(match("/checkout/:id", "/wallet/pay_1")).toBeNull();
  });
});
