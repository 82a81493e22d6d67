/**
 * Reading one environment variable each, the same way in every service: unset or empty means the default, and a
 * value that cannot be used stops the start with a ConfigError that names the variable and shows what it got.
 * Durations are integers in the unit their variable's name says (`…_MS`, `…_SECONDS`): read them with `envInt`.
 */
import { blockedPortReason } from "./bad-ports.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** A variable that cannot be used; the message names it and is safe to print (never a secret's value). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** An integer ≥ `min` (0 unless said), else `fallback` when unset. */
export function envInt(env: Env, name: string, fallback: number, min = 0): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new ConfigError(name, `${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return parsed;
}

/**
 * A TCP port to listen on or to reach: 0–65535 (0 lets the system pick one, for tests), and never one that
 * browsers and fetch refuse to connect to (bad-ports.ts): a service there would start and answer no one.
 */
export function envPort(env: Env, name: string, fallback: number): number {
  const value = raw(env, name);
  const port = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigError(name, `${name} must be a port number (0-65535), got ${JSON.stringify(value)}`);
  assertUsablePort(name, port);
  return port;
}

/** Refuses a port that browsers and fetch block, naming the variable and the reason. */
export function assertUsablePort(name: string, port: number): void {
  const reason = blockedPortReason(port);
  if (reason) throw new ConfigError(name, `${name}: port ${port} cannot be used: ${reason}; choose another port`);
}

/** `on`/`off` (also 1/0, true/false, yes/no), else `fallback` when unset. */
export function envBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (["on", "1", "true", "yes"].includes(value)) return true;
  if (["off", "0", "false", "no"].includes(value)) return false;
  throw new ConfigError(name, `${name} must be on or off, got ${JSON.stringify(env[name])}`);
}

/** A comma-separated list without blanks; [] when unset. */
export function envList(env: Env, name: string): string[] {
  return splitList(env[name]);
}

export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** `value` as an http(s) URL, or null. */
export function parseHttpUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

/**
 * An http(s) URL without a trailing slash, whose port fetch and browsers accept; `fallback` when unset (it is
 * checked the same way: a default derived from a port variable is refused under that variable's name).
 */
export function envUrl(env: Env, name: string, fallback: string): string;
export function envUrl(env: Env, name: string, fallback?: undefined): string | undefined;
export function envUrl(env: Env, name: string, fallback?: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const url = parseHttpUrl(value);
  if (!url) throw new ConfigError(name, `${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  assertUsablePort(name, urlPort(url));
  return value.replace(/\/+$/, "");
}

/** The port a URL reaches, its scheme's default when it names none. */
export function urlPort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}
