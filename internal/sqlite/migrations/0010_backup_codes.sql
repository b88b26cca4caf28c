-- Backup codes: only an HMAC of each code is stored; a code is used once
-- (used_at set by a conditional update), and a new set replaces the old.
CREATE TABLE backup_codes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account_id, code_hash)
) STRICT;
