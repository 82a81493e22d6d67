/**
 * The pay server relays JWEs it cannot open (enrollments and payments go to the issuer), but it still refuses one
 * whose header names an algorithm outside DESIGN.md's (only ECDH-ES+A256KW with A256GCM) or another `typ`: the
 * wallet never makes one, so it is an attack or a bug, and it stops here with a clear code.
 */
import { JWE_CONTENT_ENCRYPTION_ALGORITHMS, JWE_KEY_MANAGEMENT_ALGORITHMS } from "@mpay/protocol";
import { JosePolicyError, joseHeader } from "@mpay/crypto";
import { ApiError } from "../http/errors.ts";

const KEY_MANAGEMENT: readonly string[] = JWE_KEY_MANAGEMENT_ALGORITHMS;
const CONTENT: readonly string[] = JWE_CONTENT_ENCRYPTION_ALGORITHMS;

export function checkJweHeader(jwe: string, typ: string, param = "enrollment"): void {
  let header: Record<string, unknown>;
  try {
    if (jwe.split(".").length !== 5) throw new JosePolicyError("jose_invalid", "not a compact JWE");
    header = joseHeader(jwe);
  } catch {
    throw new ApiError("parameter_invalid", `${param} is not a compact JWE.`, param);
  }
  if (!KEY_MANAGEMENT.includes(String(header["alg"])) || !CONTENT.includes(String(header["enc"]))) {
    throw new ApiError("jose_algorithm_refused", `${param} must be encrypted with ECDH-ES+A256KW and A256GCM.`, param);
  }
  if (header["typ"] !== typ) throw new ApiError("parameter_invalid", `${param} is not a ${typ}.`, param);
}
