-- What the wrk scripts of `cargo xtask bench` share (loaded with dofile from PAYLATER_BENCH_DIR):
-- the session tokens (PAYLATER_TOKENS_FILE, one a line: thousands would not fit in the
-- environment), the browser origin (PAYLATER_ORIGIN), and a 1-based `thread_id` per wrk thread.
tokens = {}
for token in io.lines(os.getenv("PAYLATER_TOKENS_FILE")) do
  tokens[#tokens + 1] = token
end
origin = os.getenv("PAYLATER_ORIGIN")
THREADS = 2 -- wrk -t2 (xtask/src/load.rs)
-- A global, which setup() gives each thread (a local would shadow it, and both threads would
-- send the same ids to the same sessions).
thread_id = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
