-- The schema every migration up to the version below produces, used to
-- create a new database in one step (see DB.Migrate). Generated; do not
-- edit. Add a migration, then: go test ./internal/sqlite -run TestSnapshot -update
-- version: 27
CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL UNIQUE,  -- lower-cased email: one mailbox, one account
    phone               TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL,
    language            TEXT NOT NULL DEFAULT 'en',
    status              TEXT NOT NULL CHECK (status IN ('unconfirmed', 'active', 'disabled')),
    created_at          INTEGER NOT NULL,
    confirmed_at        INTEGER,
    password_changed_at INTEGER NOT NULL
, time_zone TEXT NOT NULL DEFAULT '', phone_confirmed_at INTEGER, password_compromised_at INTEGER, alert_email INTEGER NOT NULL DEFAULT 1, alert_sms INTEGER NOT NULL DEFAULT 0, changes INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE password_history (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    replaced_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX password_history_account ON password_history (account_id, replaced_at DESC);
CREATE TABLE challenges (
    id          TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    account_id  TEXT NOT NULL DEFAULT '',  -- '' for a decoy: no account, no code
    destination TEXT NOT NULL,
    device_id   TEXT NOT NULL DEFAULT '',
    code_hash   BLOB,
    failures    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
, attempt_id TEXT NOT NULL DEFAULT '', cause TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT 'email', ip TEXT NOT NULL DEFAULT '', user_agent TEXT NOT NULL DEFAULT '', sends INTEGER NOT NULL DEFAULT 1, stopped_at INTEGER, app_id TEXT NOT NULL DEFAULT '', app_name TEXT NOT NULL DEFAULT '') STRICT;
CREATE INDEX challenges_account ON challenges (account_id, created_at);
CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    browser    TEXT NOT NULL,
    os         TEXT NOT NULL
, previous_token_hash BLOB) STRICT;
CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    token_hash          BLOB NOT NULL UNIQUE,
    account_id          TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id           TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL,
    authenticated_at    INTEGER NOT NULL,
    idle_timeout_us     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    remember            INTEGER NOT NULL,
    ip                  TEXT NOT NULL,
    revoked_at          INTEGER
, amr TEXT NOT NULL DEFAULT '') STRICT;
CREATE INDEX sessions_account ON sessions (account_id);
CREATE TABLE signin_attempts (
    id         TEXT PRIMARY KEY,
    identifier TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    device_id  TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    outcome    TEXT NOT NULL
, kind TEXT NOT NULL DEFAULT 'signin', method_offered TEXT NOT NULL DEFAULT '', method_used TEXT NOT NULL DEFAULT '', remember INTEGER NOT NULL DEFAULT 0, ended_at INTEGER, cause TEXT NOT NULL DEFAULT '', app_id TEXT NOT NULL DEFAULT '', app_name TEXT NOT NULL DEFAULT '') STRICT;
CREATE INDEX signin_attempts_account ON signin_attempts (account_id, created_at DESC);
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    reference       TEXT NOT NULL UNIQUE,
    account_id      TEXT NOT NULL DEFAULT '',
    purpose         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    destination     TEXT NOT NULL,
    language        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT NOT NULL DEFAULT ''
, handed_off_at INTEGER, secret BLOB, challenge_id TEXT NOT NULL DEFAULT '', cause TEXT NOT NULL DEFAULT '', app_name TEXT NOT NULL DEFAULT '') STRICT;
CREATE INDEX messages_due ON messages (status, next_attempt_at);
CREATE INDEX messages_account ON messages (account_id, created_at DESC);
CREATE TABLE installation (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE signups (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    language      TEXT NOT NULL,
    device_id     TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX signups_email ON signups (email_key);
CREATE INDEX signups_created ON signups (created_at);
CREATE INDEX challenges_expires ON challenges (expires_at);
CREATE INDEX challenges_consumed ON challenges (consumed_at) WHERE consumed_at IS NOT NULL;
CREATE INDEX signin_attempts_created ON signin_attempts (created_at);
CREATE INDEX messages_status_created ON messages (status, created_at);
CREATE INDEX devices_last_seen ON devices (last_seen);
CREATE INDEX sessions_device ON sessions (device_id);
CREATE TABLE account_devices (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id     TEXT NOT NULL,
    first_used_at INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL, trusted_until INTEGER, name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, device_id)
) STRICT;
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
CREATE TABLE totp_steps (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    last_step  INTEGER NOT NULL
) STRICT;
CREATE TABLE backup_codes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account_id, code_hash)
) STRICT;
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    credential_id BLOB NOT NULL UNIQUE,
    data          BLOB NOT NULL,
    sign_count    INTEGER NOT NULL,
    flagged       INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;
CREATE INDEX passkeys_account ON passkeys (account_id, created_at);
CREATE TABLE webauthn_ceremonies (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL CHECK (kind IN ('register', 'login', 'discoverable')),
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
CREATE INDEX messages_challenge ON messages (challenge_id) WHERE challenge_id <> '';
CREATE TABLE answers (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL DEFAULT '',
    reference    TEXT NOT NULL DEFAULT '',
    challenge_id TEXT NOT NULL DEFAULT '',
    attempt_id   TEXT NOT NULL DEFAULT '',
    cause        TEXT NOT NULL,
    answer       TEXT NOT NULL CHECK (answer IN ('me', 'not_me')),
    actions      TEXT NOT NULL DEFAULT '',  -- what it did, space-separated (see activity.Action)
    created_at   INTEGER NOT NULL,
    device_id    TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX answers_account ON answers (account_id, created_at DESC);
CREATE INDEX answers_challenge ON answers (challenge_id) WHERE challenge_id <> '';
CREATE INDEX answers_attempt ON answers (attempt_id) WHERE attempt_id <> '';
CREATE TABLE send_blocks (
    destination TEXT NOT NULL,  -- lower-cased address or E.164 number
    device_id   TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    until       INTEGER NOT NULL
) STRICT;
CREATE INDEX send_blocks_destination ON send_blocks (destination, until);
CREATE INDEX send_blocks_until ON send_blocks (until);
CREATE INDEX accounts_phone ON accounts (phone) WHERE phone <> '';
CREATE TABLE message_raw (
    message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    raw        BLOB NOT NULL
);
CREATE TABLE reports (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('eml', 'text', 'reference')),
    verdict    TEXT NOT NULL,
    reasons    TEXT NOT NULL DEFAULT '',   -- reason codes, space-separated
    reference  TEXT NOT NULL DEFAULT '',
    content    BLOB NOT NULL,              -- sealed (AAD the report id)
    ip         TEXT NOT NULL DEFAULT ''
, lookalikes TEXT NOT NULL DEFAULT '', review     TEXT NOT NULL DEFAULT '', handled_at INTEGER, handled_by TEXT NOT NULL DEFAULT '');
CREATE INDEX reports_account ON reports (account_id, created_at DESC);
CREATE INDEX reports_created ON reports (created_at DESC);
CREATE TABLE guess_counters (
    secret        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    scope         TEXT NOT NULL DEFAULT '',
    account_id    TEXT NOT NULL DEFAULT '',
    consecutive   INTEGER NOT NULL DEFAULT 0,
    delayed_until INTEGER NOT NULL DEFAULT 0,
    window_start  INTEGER NOT NULL DEFAULT 0,
    window_count  INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (secret, subject, scope)
) STRICT;
CREATE INDEX guess_counters_account ON guess_counters (account_id) WHERE account_id <> '';
CREATE INDEX guess_counters_updated ON guess_counters (updated_at);
CREATE TABLE limit_windows (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, window_start)
) STRICT;
CREATE INDEX limit_windows_start ON limit_windows (window_start);
CREATE TABLE limit_seen (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    subject      TEXT NOT NULL,
    PRIMARY KEY (key, window_start, subject)
) STRICT;
CREATE INDEX limit_seen_start ON limit_seen (window_start);
CREATE TABLE limit_sends (
    destination TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX limit_sends_destination ON limit_sends (destination, at);
CREATE INDEX limit_sends_at ON limit_sends (at);
CREATE TABLE limit_refusals (
    at         INTEGER NOT NULL,
    rule       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    device_id  TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    retry_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX limit_refusals_at ON limit_refusals (at);
CREATE INDEX devices_previous_token ON devices (previous_token_hash) WHERE previous_token_hash IS NOT NULL;
CREATE TRIGGER accounts_update_counted AFTER UPDATE ON accounts WHEN NEW.changes = OLD.changes BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.id;
END;
CREATE TRIGGER passkeys_insert_counted AFTER INSERT ON passkeys BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER passkeys_delete_counted AFTER DELETE ON passkeys BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = OLD.account_id;
END;
CREATE TRIGGER passkeys_update_counted AFTER UPDATE OF account_id, flagged ON passkeys BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER totp_apps_insert_counted AFTER INSERT ON totp_apps BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER totp_apps_delete_counted AFTER DELETE ON totp_apps BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = OLD.account_id;
END;
CREATE TRIGGER totp_apps_update_counted AFTER UPDATE OF account_id, confirmed_at ON totp_apps BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER account_devices_insert_counted AFTER INSERT ON account_devices BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER account_devices_delete_counted AFTER DELETE ON account_devices BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = OLD.account_id;
END;
CREATE TRIGGER account_devices_update_counted AFTER UPDATE OF account_id, device_id, last_used_at, trusted_until ON account_devices BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER signin_attempts_insert_counted AFTER INSERT ON signin_attempts BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER signin_attempts_update_counted AFTER UPDATE OF account_id, outcome, kind, cause, device_id ON signin_attempts BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER challenges_insert_counted AFTER INSERT ON challenges BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER challenges_update_counted AFTER UPDATE OF account_id, consumed_at, expires_at, attempt_id, device_id ON challenges BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER messages_insert_counted AFTER INSERT ON messages BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER messages_update_counted AFTER UPDATE OF account_id, status, challenge_id, cause ON messages BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER answers_insert_counted AFTER INSERT ON answers BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER answers_delete_counted AFTER DELETE ON answers BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = OLD.account_id;
END;
CREATE TRIGGER answers_update_counted AFTER UPDATE ON answers BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER devices_update_counted AFTER UPDATE OF browser, os, token_hash, previous_token_hash ON devices BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (SELECT account_id FROM account_devices WHERE device_id = NEW.id);
END;
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE TABLE oidc_signing_keys (
    kid            TEXT PRIMARY KEY,          -- RFC 7638 thumbprint
    alg            TEXT NOT NULL,             -- 'RS256'
    public_jwk     TEXT NOT NULL,             -- JSON Web Key
    private_sealed BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    active_from    INTEGER NOT NULL,
    retire_after   INTEGER
) STRICT;
CREATE TABLE oidc_clients (
    id                     TEXT PRIMARY KEY,  -- client_id
    name                   TEXT NOT NULL,
    secret_hash            BLOB,              -- HMAC-SHA256 under the HMAC key; NULL: a public client
    first_party            INTEGER NOT NULL DEFAULT 0,
    backchannel_logout_uri TEXT NOT NULL DEFAULT '',
    created_at             INTEGER NOT NULL,
    removed_at             INTEGER            -- gatehouse client remove: kept to name it, refused everywhere
) STRICT;
CREATE TABLE oidc_client_uris (
    client_id TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('redirect', 'post_logout')),
    uri       TEXT NOT NULL,
    PRIMARY KEY (client_id, kind, uri)
) STRICT;
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,        -- the jti / idempotency key
    kind        TEXT NOT NULL,           -- 'set', 'webhook_json', 'backchannel_logout'
    target      TEXT NOT NULL,           -- the URL it is posted to
    receiver_id TEXT NOT NULL,           -- a configured receiver, a client
    account_id  TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL,           -- claims or body, JSON
    status      TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    lease_until INTEGER,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
) STRICT;
CREATE INDEX deliveries_due ON deliveries (status, next_at);
CREATE INDEX deliveries_created ON deliveries (created_at);
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
CREATE TABLE oidc_sessions (
    sid           TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,
    client_id     TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    logged_out_at INTEGER,
    UNIQUE (session_id, client_id)
) STRICT;
CREATE TABLE session_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL
) STRICT;
CREATE TRIGGER accounts_changes_logged AFTER UPDATE OF changes ON accounts WHEN NEW.changes <> OLD.changes BEGIN
    INSERT INTO session_changes (account_id) VALUES (NEW.id);
END;
CREATE TRIGGER accounts_delete_logged AFTER DELETE ON accounts BEGIN
    INSERT INTO session_changes (account_id) VALUES (OLD.id);
END;
CREATE TRIGGER sessions_update_logged AFTER UPDATE ON sessions WHEN
    NEW.token_hash IS NOT OLD.token_hash OR NEW.account_id IS NOT OLD.account_id OR
    NEW.device_id IS NOT OLD.device_id OR NEW.created_at IS NOT OLD.created_at OR
    NEW.authenticated_at IS NOT OLD.authenticated_at OR NEW.idle_timeout_us IS NOT OLD.idle_timeout_us OR
    NEW.absolute_expires_at IS NOT OLD.absolute_expires_at OR NEW.remember IS NOT OLD.remember OR
    NEW.ip IS NOT OLD.ip OR NEW.revoked_at IS NOT OLD.revoked_at OR NEW.amr IS NOT OLD.amr
BEGIN
    INSERT INTO session_changes (account_id) VALUES (OLD.account_id);
    INSERT INTO session_changes (account_id) SELECT NEW.account_id WHERE NEW.account_id <> OLD.account_id;
END;
CREATE TRIGGER sessions_delete_logged AFTER DELETE ON sessions BEGIN
    INSERT INTO session_changes (account_id) VALUES (OLD.account_id);
END;
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
CREATE TABLE two_step_resets (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    reset_at   INTEGER NOT NULL
) STRICT;
