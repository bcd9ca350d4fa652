-- wrk script: POST /v1/events with 10 new events a request (unique ids, so every request does
-- the full work: dedup lookups, enqueue, consumer), rotating over many sessions as real traffic
-- does. The sessions and the origin come from common.lua
-- (cargo xtask bench sets them).
dofile(os.getenv("PAYLATER_BENCH_DIR") .. "/common.lua")
local counter = 0

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
