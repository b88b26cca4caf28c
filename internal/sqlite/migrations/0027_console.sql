-- The operator console (issue 22): a reported message's review — the
-- operator's verdict, who handled it and when — and the look-alike domains
-- the checker found in it when it was filed (for takedown lists, without
-- opening the sealed content); and the time an operator reset an account's
-- two-step verification, which starts the waiting period before a new
-- method may be added from a device the account had not used before.
ALTER TABLE reports ADD COLUMN lookalikes TEXT NOT NULL DEFAULT '';  -- hosts, space-separated
ALTER TABLE reports ADD COLUMN review     TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN handled_at INTEGER;
ALTER TABLE reports ADD COLUMN handled_by TEXT NOT NULL DEFAULT '';

CREATE TABLE two_step_resets (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    reset_at   INTEGER NOT NULL
) STRICT;
