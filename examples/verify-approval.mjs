// Verifies a Paylater approval token as a merchant's server does, with `jose` and the edge's
// published keys (GET /v1/keys). docs/approvals.md quotes this file; the integration tests run it.
//
//   node examples/verify-approval.mjs https://EDGE m_your_merchant_id TOKEN [--at=EPOCH_SECONDS]
//
// Prints {"ok":true,"kid":…,"claims":{…}} and exits 0, or {"ok":false,"code":…} and exits 1.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [edge, merchantId, token, at] = process.argv.slice(2);
const keys = createRemoteJWKSet(new URL("/v1/keys", edge));
try {
  const { payload, protectedHeader } = await jwtVerify(token, keys, {
    algorithms: ["EdDSA"],
    issuer: "paylater-edge",
    audience: merchantId,
    ...(at ? { currentDate: new Date(Number(at.replace("--at=", "")) * 1000) } : {}),
  });
  // Then check what your order says: payload.amount (minor units), payload.currency,
  // payload.plan_id, and that payload.jti was not used before.
  console.log(JSON.stringify({ ok: true, kid: protectedHeader.kid, claims: payload }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, code: error.code ?? "ERR_UNKNOWN", message: error.message }));
  process.exitCode = 1;
}
