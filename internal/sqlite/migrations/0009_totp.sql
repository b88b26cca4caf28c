-- Authenticator apps (TOTP). The secret is stored sealed with the
-- installation's encryption key (the row id is the sealing's associated
-- data), never in the clear. An app is pending until its first code is
-- entered (confirmed_at NULL); only confirmed apps pass a second step.
CREATE TABLE totp_apps (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret       BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX totp_apps_account ON totp_apps (account_id);

-- The newest TOTP step an account has used, whatever the app: a step is
-- accepted only if it is newer (a conditional update), so no code is
-- accepted twice, on any node.
CREATE TABLE totp_steps (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    last_step  INTEGER NOT NULL
) STRICT;
