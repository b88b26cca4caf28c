-- Deliveries to other programs (package delivery): Security Event Tokens,
-- signed JSON webhooks and back-channel logout tokens, stored before any
-- attempt and claimed by a worker with a lease, like messages.
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
