/**
 * The connector to the issuer simulator (services/issuer) over HTTP: one host serves several issuers under
 * `/issuers/:issuerId/…`, and the acquirer link is authenticated with a bearer secret. A timeout, a lost
 * connection or a 5xx is `unavailable` (outcome unknown); the callers settle it (issuer-operations/operations.ts).
 */
import type { AuthorizationRecord, AuthorizationRequest } from "@mpay/protocol";
import { IssuerError, type IssuerConnector } from "../connector.ts";
import {
  toAnswer,
  toEnrolledCard,
  toEnrollmentStarted,
  toError,
  toListing,
  toOperationRecord,
  toRecord,
  toRecurringToken,
} from "./transformers.ts";

export interface SimulatorConnectorOptions {
  /** `http://127.0.0.1:4100` */
  baseUrl: string;
  /** The acquirer secret the issuer host expects, or how to get it; never logged. */
  acquirerSecret: string | (() => Promise<string>);
  /** Per request; an authorization must not keep the payer waiting long. Default 10 s. */
  timeoutMs?: number;
}

export class SimulatorConnector implements IssuerConnector {
  readonly name = "simulator";
  readonly #baseUrl: string;
  readonly #secret: string | (() => Promise<string>);
  readonly #timeoutMs: number;

  constructor(options: SimulatorConnectorOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/$/, "");
    this.#secret = options.acquirerSecret;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async listIssuers() {
    return toListing(await this.#call("GET", "/issuers"));
  }

  async enroll(issuerId: string, input: { enrollment: string; payerRef: string }) {
    return toEnrollmentStarted(await this.#call("POST", `${issuerPath(issuerId)}/enrollments`, input));
  }

  async verifyEnrollment(issuerId: string, enrollmentId: string, code: string) {
    return toEnrolledCard(
      await this.#call("POST", `${issuerPath(issuerId)}/enrollments/${segment(enrollmentId)}/verify`, { code }),
    );
  }

  async authorize(issuerId: string, request: AuthorizationRequest) {
    return toAnswer(await this.#call("POST", `${issuerPath(issuerId)}/authorizations`, request));
  }

  async capture(issuerId: string, paymentId: string, input: { operationId: string; amount: number }) {
    return toOperationRecord(await this.#call("POST", `${authorizationPath(issuerId, paymentId)}/capture`, input));
  }

  async void(issuerId: string, paymentId: string, input: { operationId: string }) {
    return toOperationRecord(await this.#call("POST", `${authorizationPath(issuerId, paymentId)}/void`, input));
  }

  async refund(issuerId: string, paymentId: string, input: { operationId: string; amount: number }) {
    return toOperationRecord(await this.#call("POST", `${authorizationPath(issuerId, paymentId)}/refunds`, input));
  }

  async inquire(issuerId: string, paymentId: string): Promise<AuthorizationRecord | null> {
    try {
      return toRecord(await this.#call("GET", authorizationPath(issuerId, paymentId)));
    } catch (error) {
      if (error instanceof IssuerError && error.kind === "refused" && error.code === "authorization_not_found")
        return null;
      throw error;
    }
  }

  async unbindDevice(issuerId: string, deviceKid: string) {
    const body = (await this.#call("POST", `${issuerPath(issuerId)}/devices/${segment(deviceKid)}/unbind`, {})) as {
      unbound?: unknown;
      bindings?: unknown;
    };
    if (body.unbound !== true || typeof body.bindings !== "number")
      throw new IssuerError("unavailable", "issuer_answer_invalid", "the issuer did not acknowledge the unbind");
    return { bindings: body.bindings };
  }

  async createRecurringToken(issuerId: string, input: { mandate: string; payerRef: string }) {
    return toRecurringToken(await this.#call("POST", `${issuerPath(issuerId)}/recurring-tokens`, input));
  }

  async revokeRecurringToken(issuerId: string, token: string) {
    await this.#call("POST", `${issuerPath(issuerId)}/recurring-tokens/${segment(token)}/revoke`, {});
  }

  async #call(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(this.#baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${typeof this.#secret === "string" ? this.#secret : await this.#secret()}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      // No cause attached: it could carry the request, and with it a JWE or a secret header.
      throw new IssuerError(
        "unavailable",
        timedOut ? "issuer_timeout" : "issuer_unavailable",
        timedOut
          ? `the issuer did not answer ${method} ${path.split("/").slice(0, 4).join("/")} in time`
          : "the issuer could not be reached",
      );
    }
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch {
      throw new IssuerError(
        "unavailable",
        "issuer_answer_invalid",
        `the issuer answered ${response.status} without JSON`,
        response.status,
      );
    }
    if (!response.ok) throw toError(response.status, parsed);
    return parsed;
  }
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

function issuerPath(issuerId: string): string {
  return `/issuers/${segment(issuerId)}`;
}

function authorizationPath(issuerId: string, paymentId: string): string {
  return `${issuerPath(issuerId)}/authorizations/${segment(paymentId)}`;
}
