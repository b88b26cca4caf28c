-- The OpenID Connect provider's authorization code flow: the requests
-- applications send browsers with, the tokens they get, the holder's
-- grants (what /account/apps lists), and which Gatehouse session signed in
-- to which application (for back-channel logout).

-- An authorization request waits while the holder signs in; it is bound to
-- the browser that brought it (device_id), so a link to a half-finished
-- request cannot sign someone else in. request is the parsed request
-- (JSON); result is what the sign-in proved once done. The code is kept
-- only as its SHA-256, and the row outlives the exchange so that a
-- replayed code revokes what it bought.
CREATE TABLE oidc_auth_requests (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    device_id       TEXT NOT NULL,
    request         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    account_id      TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    result          TEXT NOT NULL DEFAULT '',
    done_at         INTEGER,
    denied_at       INTEGER,
    code_hash       BLOB UNIQUE,
    code_expires_at INTEGER,
    exchanged_at    INTEGER
) STRICT;
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

-- A refresh token belongs to a family: every token a first one was
-- rotated into. Reusing a rotated token revokes the whole family.
CREATE TABLE oidc_token_families (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL DEFAULT '',
    scopes         TEXT NOT NULL,
    amr            TEXT NOT NULL,
    acr            TEXT NOT NULL DEFAULT '',
    auth_time      INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    last_device_id TEXT NOT NULL DEFAULT '',
    revoked_at     INTEGER,
    revoke_reason  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX oidc_token_families_account ON oidc_token_families (account_id, client_id);

CREATE TABLE oidc_refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES oidc_token_families(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER
) STRICT;
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (family_id);

-- Access tokens are opaque (sealed ids): every use reads this row, so a
-- revocation takes effect at once.
CREATE TABLE oidc_access_tokens (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    auth_request_id TEXT NOT NULL DEFAULT '',
    family_id       TEXT NOT NULL DEFAULT '',
    scopes          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER
) STRICT;
CREATE INDEX oidc_access_tokens_account ON oidc_access_tokens (account_id, client_id);
CREATE INDEX oidc_access_tokens_family ON oidc_access_tokens (family_id);

-- A grant is the holder's yes to an application: given on the consent
-- page, or at the first sign-in of a first-party application. It is what
-- /account/apps lists, with its first and last use.
CREATE TABLE oidc_grants (
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    scopes         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    last_device_id TEXT NOT NULL DEFAULT '',
    revoked_at     INTEGER,
    PRIMARY KEY (account_id, client_id)
) STRICT;

-- Which application a Gatehouse session signed in to, under which sid
-- (random: two applications cannot correlate their holders by it).
CREATE TABLE oidc_sessions (
    sid           TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,
    client_id     TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    logged_out_at INTEGER,
    UNIQUE (session_id, client_id)
) STRICT;
