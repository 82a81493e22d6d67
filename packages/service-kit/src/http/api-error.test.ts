import { describe, expect, it } from "vitest";
import { bodyProblemOf, describeForLog, ServiceApiError } from "./api-error.ts";

describe("ServiceApiError", () => {
  it("carries a stable code, its HTTP status and a message; a service's subclass binds its codes", () => {
    class ShopError extends ServiceApiError<"cart_empty"> {
      constructor(message: string) {
        super("cart_empty", message, 409);
      }
    }
    const error = new ShopError("The cart is empty.");
    expect(error).toBeInstanceOf(ServiceApiError);
    expect(error).toMatchObject({
      code: "cart_empty",
      statusCode: 409,
      message: "The cart is empty.",
      param: undefined,
    });
  });

  it("maps Fastify's body failures to one reason each", () => {
    expect(bodyProblemOf({ code: "FST_ERR_CTP_BODY_TOO_LARGE" })).toBe("too_large");
    expect(bodyProblemOf({ code: "FST_ERR_CTP_EMPTY_JSON_BODY" })).toBe("invalid_json");
    expect(bodyProblemOf(Object.assign(new SyntaxError("Unexpected token"), { statusCode: 400 }))).toBe("invalid_json");
    expect(bodyProblemOf({ code: "FST_ERR_CTP_INVALID_MEDIA_TYPE" })).toBe("unsupported_media_type");
    expect(bodyProblemOf(new Error("boom"))).toBeNull();
    expect(bodyProblemOf(undefined)).toBeNull();
  });

  it("describes a failed query for the log without its SQL or parameters", () => {
    const query = Object.assign(new Error("Failed query: insert into cards values ($1)\nparams: 4111111111111111"), {
      query: "insert into cards values ($1)",
      params: ["4111111111111111"],
      cause: Object.assign(new Error("duplicate key value"), { code: "23505" }),
    });
    const described = describeForLog(query);
    expect(described).toMatchObject({ type: "DatabaseError", code: "23505", message: "duplicate key value" });
    expect(JSON.stringify(described)).not.toContain("4111111111111111");
    expect(JSON.stringify(described)).not.toContain("insert into");
    expect(describeForLog("text")).toEqual({ type: "string" });
  });
});
