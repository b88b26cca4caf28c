-- The OpenID Connect provider's foundation: the keys ID tokens are signed
-- with, and the applications (clients) registered to sign their users in.

-- A key is published in the JWKS from created_at, signs from active_from
-- (later, so that caches of the JWKS learn it first), and stays published
-- until retire_after, when the tokens it signed have expired; NULL while no
-- newer key replaced it. The private key is PKCS #8 sealed with the
-- installation's encryption key, bound to the kid.
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

-- Redirect URIs are matched exactly; kind 'redirect' receives codes,
-- 'post_logout' is where RP-initiated logout may return.
CREATE TABLE oidc_client_uris (
    client_id TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('redirect', 'post_logout')),
    uri       TEXT NOT NULL,
    PRIMARY KEY (client_id, kind, uri)
) STRICT;
