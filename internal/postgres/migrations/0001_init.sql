-- The PostgreSQL schema mirrors internal/sqlite's, in this dialect's types:
-- TIMESTAMPTZ for times (stored in UTC), BYTEA for hashes. Ids are random
-- strings, never sequences.

CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL UNIQUE,
    phone               TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL,
    language            TEXT NOT NULL DEFAULT 'en',
    status              TEXT NOT NULL CHECK (status IN ('unconfirmed', 'active', 'disabled')),
    created_at          TIMESTAMPTZ NOT NULL,
    confirmed_at        TIMESTAMPTZ,
    password_changed_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE password_history (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    replaced_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX password_history_account ON password_history (account_id, replaced_at DESC);

CREATE TABLE challenges (
    id          TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    account_id  TEXT NOT NULL DEFAULT '',
    destination TEXT NOT NULL,
    device_id   TEXT NOT NULL DEFAULT '',
    code_hash   BYTEA,
    failures    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ
);
CREATE INDEX challenges_account ON challenges (account_id, created_at);

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    browser    TEXT NOT NULL,
    os         TEXT NOT NULL
);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    token_hash          BYTEA NOT NULL UNIQUE,
    account_id          TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id           TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    last_seen_at        TIMESTAMPTZ NOT NULL,
    authenticated_at    TIMESTAMPTZ NOT NULL,
    idle_timeout_us     BIGINT NOT NULL,
    absolute_expires_at TIMESTAMPTZ NOT NULL,
    remember            BOOLEAN NOT NULL,
    ip                  TEXT NOT NULL,
    revoked_at          TIMESTAMPTZ
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE signin_attempts (
    id         TEXT PRIMARY KEY,
    identifier TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    device_id  TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    outcome    TEXT NOT NULL
);
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
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_due ON messages (status, next_attempt_at);
CREATE INDEX messages_account ON messages (account_id, created_at DESC);
