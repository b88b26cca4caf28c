-- Passkeys (WebAuthn credentials): a passkey signs in on its own, or
-- passes a second step. data is the WebAuthn library's whole record of the
-- credential as JSON (public key, flags, transports, AAGUID); the columns
-- beside it are what is looked up or shown without decoding it.
-- credential_id is unique across the installation: an assertion names only
-- its credential, and that must lead to one account. sign_count only rises;
-- a passkey whose counter went backwards (a copied key?) is flagged and no
-- longer passes.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    credential_id BYTEA NOT NULL UNIQUE,
    data          BYTEA NOT NULL,
    sign_count    BIGINT NOT NULL,
    flagged       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);
CREATE INDEX passkeys_account ON passkeys (account_id, created_at);

-- A started passkey ceremony (registration or assertion) with its
-- challenge, kept in the database rather than in one node's memory so that
-- any node can finish it, and deleted by the one request that finishes it
-- (DELETE … RETURNING), so that it is used once. account_id is '' for a
-- passwordless sign-in, whose account is known only from the answer.
-- Expired ones are pruned.
CREATE TABLE webauthn_ceremonies (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL CHECK (kind IN ('register', 'login', 'discoverable')),
    data       BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
