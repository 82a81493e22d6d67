/**
 * A small history-API router: the web app has a handful of top-level screens, so a route is a path pattern and
 * the screen that owns it (checkout, wallet, messenger). Screens navigate with `navigate(path)`.
 *
 * The path is an external store read through `useSyncExternalStore`: React subscribes before it commits and reads
 * the path again once subscribed, so a navigation made between a render and its effect (a screen that redirects
 * while mounting) is never missed, as it was with state copied at render and a listener added in an effect.
 */
import { useSyncExternalStore } from "react";

/** The parts of `window` the router uses: the real one in the app, an in-memory one in tests. */
export interface HistoryWindow {
  readonly location: { readonly pathname: string };
  readonly history: Pick<History, "pushState" | "replaceState">;
  addEventListener(type: "popstate", listener: () => void): void;
  removeEventListener(type: "popstate", listener: () => void): void;
}

export interface PathStore {
  navigate(path: string, options?: { replace?: boolean }): void;
  /** Calls `listener` after every navigation and every back or forward; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  current(): string;
}

export function createPathStore(win: HistoryWindow): PathStore {
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  return {
    navigate(path, options = {}) {
      if (options.replace) win.history.replaceState(null, "", path);
      else win.history.pushState(null, "", path);
      // pushState fires no popstate: the store tells its own subscribers.
      notify();
    },
    subscribe(listener) {
      // One entry per subscription, so React's double subscribe in development cannot share (and drop) another's.
      const entry = () => listener();
      listeners.add(entry);
      win.addEventListener("popstate", entry);
      return () => {
        listeners.delete(entry);
        win.removeEventListener("popstate", entry);
      };
    },
    current: () => win.location.pathname,
  };
}

let browserStore: PathStore | undefined;
/** The store over the real window, made on first use (so modules that import `match` load outside a browser). */
function browser(): PathStore {
  browserStore ??= createPathStore(window);
  return browserStore;
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  browser().navigate(path, options);
}

const subscribe = (listener: () => void) => browser().subscribe(listener);
const currentPath = () => browser().current();

/** The current path; re-renders on navigation and on the browser's back and forward. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, currentPath);
}

/** `match("/checkout/:id", "/checkout/pay_1")` → `{ id: "pay_1" }`; null when the path is another. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const have = path.split("/");
  const rest = want.at(-1) === "*";
  if (rest ? have.length < want.length - 1 : have.length !== want.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    if (part === "*") break;
    const value = have[i] ?? "";
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(value);
    else if (part !== value) return null;
  }
  return params;
}
