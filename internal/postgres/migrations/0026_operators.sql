-- The operator console (issue 22): accounts given a role, and the audit
-- trail of every operator action and every view of a holder's data (see
-- SQLite's 0026).
CREATE TABLE operators (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('support', 'admin')),
    added_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    operator_id    TEXT NOT NULL,
    operator_email TEXT NOT NULL,
    action         TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    ip             TEXT NOT NULL,
    device         TEXT NOT NULL,
    detail         TEXT NOT NULL
);
CREATE INDEX audit_log_account ON audit_log (account_id, at);
CREATE INDEX audit_log_at ON audit_log (at);
