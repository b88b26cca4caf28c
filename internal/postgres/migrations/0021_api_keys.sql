-- The operator's API keys for the admin API (issue 21): "gh_" and 256
-- random bits, shown once; only the key's SHA-256 is kept. scopes are
-- space-separated ("accounts:read sessions:write"); last_used_at is
-- written at most once a minute.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    key_hash     BYTEA NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
