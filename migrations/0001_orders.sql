-- The reconciliation ledger: one row per change of an approval's or an order's life, written by
-- the queue consumer. `change_id` is stable per change, so a redelivered message inserts nothing.
CREATE TABLE changes (
  change_id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
  kind TEXT NOT NULL CHECK (kind IN ('approval', 'approval_expired', 'order_created', 'captured', 'refunded', 'voided', 'expired')),
  day TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  approval_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  merchant_reference TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount >= 0),
  currency TEXT NOT NULL
);
CREATE INDEX changes_by_day ON changes (merchant_id, livemode, day, at_ms);
CREATE INDEX changes_by_order ON changes (order_id, kind);

-- Every order, its totals summed from its changes (so a repeated update changes nothing).
CREATE TABLE orders (
  order_id TEXT PRIMARY KEY,
  approval_id TEXT NOT NULL UNIQUE,
  merchant_id TEXT NOT NULL,
  livemode INTEGER NOT NULL CHECK (livemode IN (0, 1)),
  merchant_reference TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  plan_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  captured INTEGER NOT NULL,
  refunded INTEGER NOT NULL,
  released INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX orders_by_merchant ON orders (merchant_id, livemode, created_at_ms);
