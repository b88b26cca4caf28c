-- The operator console (issue 22): accounts given a role, and the audit
-- trail of every operator action and every view of a holder's data. An
-- operator's row goes with the account (ON DELETE CASCADE); the audit
-- trail keeps its lines — account erasure removes the ones about the
-- account and blanks the ones it took as operator (sqlite.EraseAccount).
CREATE TABLE operators (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('support', 'admin')),
    added_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    at             INTEGER NOT NULL,
    operator_id    TEXT NOT NULL,
    operator_email TEXT NOT NULL,
    action         TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    ip             TEXT NOT NULL,
    device         TEXT NOT NULL,
    detail         TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_account ON audit_log (account_id, at);
CREATE INDEX audit_log_at ON audit_log (at);
