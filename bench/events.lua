-- wrk script: POST /v1/events with 10 new events a request (unique ids, so every request does
-- the full work: dedup lookups, enqueue, consumer), rotating over many sessions as real traffic
-- does. PAYLATER_TOKENS (comma-separated) and PAYLATER_ORIGIN come from the environment
-- (cargo xtask bench sets them).
local tokens = {}
for token in string.gmatch(os.getenv("PAYLATER_TOKENS"), "[^,]+") do
  tokens[#tokens + 1] = token
end
local origin = os.getenv("PAYLATER_ORIGIN")
local threads = 0
local THREADS = 2 -- wrk -t2 (xtask/src/load.rs)
-- Each wrk thread runs its own copy of this script; `thread_id` is the global that setup() gives
-- it (a local here would shadow it and make both threads send the same ids to the same sessions).
thread_id = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function request()
  local parts = {}
  local ts = os.time() * 1000
  for i = 1, 10 do
    counter = counter + 1
    local id = string.format("0190d2c4-%04x-7cc2-9a1e-%012x", thread_id, counter)
    parts[i] = string.format(
      '{"id":"%s","name":"widget_viewed","ts":%d,"seq":%d,"props":{"visible_ms":1000}}', id, ts, counter)
  end
  -- Threads take disjoint sessions (odd and even), as separate shoppers would.
  local token = tokens[((counter / 10) * THREADS + thread_id - 1) % #tokens + 1]
  local body = '{"session_token":"' .. token .. '","events":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/v1/events", { ["Content-Type"] = "application/json", ["Origin"] = origin }, body)
end
