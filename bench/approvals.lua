-- wrk script: POST /v1/approvals, each request a new attempt (its own Idempotency-Key) by one of
-- many customers, over many sessions, as a busy checkout sees them. PAYLATER_TOKENS (sessions
-- of 129.99 USD, comma-separated) and PAYLATER_ORIGIN come from the environment (cargo xtask
-- bench sets them). Customers rotate over 500 e-mails, so each gets a handful of attempts.
local tokens = {}
for token in string.gmatch(os.getenv("PAYLATER_TOKENS"), "[^,]+") do
  tokens[#tokens + 1] = token
end
local origin = os.getenv("PAYLATER_ORIGIN")
local threads = 0
local THREADS = 2 -- wrk -t2 (xtask/src/load.rs)
-- The global setup() gives each thread (a local would shadow it).
thread_id = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function request()
  counter = counter + 1
  local n = counter * THREADS + thread_id
  local token = tokens[n % #tokens + 1]
  local body = string.format(
    '{"session_token":"%s","plan_id":"pay_in_4","customer":{"email":"shopper%d@example.com","date_of_birth":"1988-04-12","country":"US"},"consent":{"terms":true}}',
    token, n % 500)
  return wrk.format("POST", "/v1/approvals", {
    ["Content-Type"] = "application/json",
    ["Origin"] = origin,
    ["Idempotency-Key"] = string.format("bench-%d-%d", thread_id, counter),
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0",
  }, body)
end
