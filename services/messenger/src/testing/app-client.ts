/** The messenger app's side of the tests: sign in for a session token and call the app API with it over HTTP. */
import type { TestAccount } from "./rp.ts";

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T & { error?: { type: string; code: string; message: string; param?: string } };
}

export async function signIn(baseUrl: string, account: Pick<TestAccount, "phoneNumber" | "password">): Promise<string> {
  const response = await fetch(`${baseUrl}/api/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ phoneNumber: account.phoneNumber, password: account.password }),
  });
  const body = (await response.json()) as { sessionToken?: string };
  if (response.status !== 201 || !body.sessionToken) throw new Error(`sign-in failed: ${response.status}`);
  return body.sessionToken;
}

/** `token` undefined sends no Authorization; `body` a string is sent as is. */
export async function callApi<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  init: { token?: string | undefined; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token !== undefined) headers["authorization"] = `Bearer ${init.token}`;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(init.body !== undefined ? { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as ApiAnswer<T>["body"],
  };
}
