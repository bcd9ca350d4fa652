-- The audit trail's index (edge/src/audit.rs): every archive object once, in the period it was
-- first stored in (by this database's clock), and each merchant and mode's chain of digests.
CREATE TABLE audit_objects (
    key TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    period INTEGER NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX audit_objects_by_period ON audit_objects (merchant_id, mode, period);

CREATE TABLE audit_chains (
    merchant_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    period_seconds INTEGER NOT NULL,
    -- The last period with a digest; the next cron run seals from the one after.
    sealed_through INTEGER NOT NULL,
    last_key TEXT,
    last_sha256 TEXT,
    PRIMARY KEY (merchant_id, mode)
) WITHOUT ROWID;
