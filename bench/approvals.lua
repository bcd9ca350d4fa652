-- wrk script: POST /v1/approvals, each request a new attempt (its own Idempotency-Key) by one of
-- many customers, each in a session of its own (a session holds one approval), as a busy checkout
-- sees them. The sessions (of 129.99 USD) and PAYLATER_ORIGIN come from common.lua (cargo xtask
-- bench sets them); once every session has had its attempt they repeat, and a repeat with another
-- customer is a 409 (counted as non-2xx). Customers rotate over 500 e-mails and come from 16
-- client IPs (CF-Connecting-IP, which wrangler dev keeps when a client sends it): one IP would
-- meet the edge's cap of 1,000 approval attempts an hour per merchant and IP within the bench.
dofile(os.getenv("PAYLATER_BENCH_DIR") .. "/common.lua")
local counter = 0

function request()
  counter = counter + 1
  local n = counter * THREADS + thread_id
  local token = tokens[n % #tokens + 1]
  local customer = n % 500
  local body = string.format(
    '{"session_token":"%s","plan_id":"pay_in_4","customer":{"email":"shopper%d@example.com","date_of_birth":"1988-04-12","country":"US"},"consent":{"terms":true}}',
    token, customer)
  return wrk.format("POST", "/v1/approvals", {
    ["Content-Type"] = "application/json",
    ["Origin"] = origin,
    ["Idempotency-Key"] = string.format("bench-%d-%d", thread_id, counter),
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0",
    ["CF-Connecting-IP"] = string.format("10.1.%d.7", customer % 16),
  }, body)
end
