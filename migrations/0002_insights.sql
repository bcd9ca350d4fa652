-- Merchant insights (GET /v1/insights/funnel): exact counters per merchant, mode, UTC hour,
-- metric and dimension, written by the queue consumer in the same D1 batch as the ledger.

-- Every record the counters have taken, by its stable id (`event:…`, `decision:…`,
-- `change:…`): a redelivered batch or a replayed dead letter adds nothing. `day` lets old ids go.
CREATE TABLE insight_records (
  record_id TEXT PRIMARY KEY,
  day TEXT NOT NULL
);
CREATE INDEX insight_records_by_day ON insight_records (day);

-- Which sessions reached which funnel step: a session counts once per step, in the hour it
-- first reached it.
CREATE TABLE insight_steps (
  merchant_id TEXT NOT NULL,
  livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
  session_id TEXT NOT NULL,
  step TEXT NOT NULL,
  PRIMARY KEY (merchant_id, livemode, session_id, step)
);

-- `metric`: step (dimension: the step), plan (plan id, one per selection), decision (outcome;
-- sum: the amounts decided), reason (`outcome:code`), order (`kind:currency`; sum: amounts).
CREATE TABLE insight_counts (
  merchant_id TEXT NOT NULL,
  livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
  hour TEXT NOT NULL,
  metric TEXT NOT NULL,
  dimension TEXT NOT NULL,
  count INTEGER NOT NULL CHECK (count >= 0),
  sum INTEGER NOT NULL CHECK (sum >= 0),
  PRIMARY KEY (merchant_id, livemode, hour, metric, dimension)
);
