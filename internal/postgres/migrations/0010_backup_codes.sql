-- Backup codes: only an HMAC of each code is stored; a code is used once
-- (used_at set by a conditional update), and a new set replaces the old.
CREATE TABLE backup_codes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash  BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (account_id, code_hash)
);
