-- Limits on whoever tries again (issue 18): guesses at a secret and
-- messages that carry codes, counted here so that they hold across nodes
-- and restarts. Times are microseconds since 1970, like every other table.

-- One run of guesses at one kind of secret of one subject (an account, or a
-- code's destination), for one scope: '' is everyone but the holder's
-- known browsers, 'device:ID' one of those.
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

-- Fixed-window counters: failures and subjects per network per hour, sends
-- per network per hour, texts per country and in all per day.
CREATE TABLE limit_windows (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, window_start)
) STRICT;
CREATE INDEX limit_windows_start ON limit_windows (window_start);

-- Which subjects a network tried in a window (distinct accounts).
CREATE TABLE limit_seen (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    subject      TEXT NOT NULL,
    PRIMARY KEY (key, window_start, subject)
) STRICT;
CREATE INDEX limit_seen_start ON limit_seen (window_start);

-- Every code sent to a destination, for "at most N in any 10 minutes and
-- any day".
CREATE TABLE limit_sends (
    destination TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX limit_sends_destination ON limit_sends (destination, at);
CREATE INDEX limit_sends_at ON limit_sends (at);

-- Requests a limit refused, for the operator.
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

-- A request its destination's holder stopped ("this wasn't me"): used up
-- for the holder, and answered like a decoy to whoever asked for it (its
-- codes are wrong, its resends send nothing), so that the requester cannot
-- tell that the address or number has a holder who answered.
ALTER TABLE challenges ADD COLUMN stopped_at INTEGER;

-- A trusted browser's cookie changes on each use; the value it replaced is
-- kept until it shows up again — from a copy of the cookie, or from the
-- browser the copy was used before — which tells the holder it was copied.
ALTER TABLE devices ADD COLUMN previous_token_hash BLOB;
CREATE INDEX devices_previous_token ON devices (previous_token_hash) WHERE previous_token_hash IS NOT NULL;
