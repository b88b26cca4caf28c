-- A sign-up is not an account until its address is confirmed. Pending
-- sign-ups live here, one row per sign-up request (id = the id of its
-- confirm_email challenge), so that several people may claim one address at
-- once without killing each other's codes, and so that a pending address
-- looks exactly like an unknown one to sign-in and reset (no enumeration).
CREATE TABLE signups (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    language      TEXT NOT NULL,
    device_id     TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX signups_email ON signups (email_key);
CREATE INDEX signups_created ON signups (created_at);

-- Unconfirmed accounts of earlier versions become pending sign-ups; their
-- codes keep working.
INSERT INTO signups (id, email, email_key, phone, password_hash, language, device_id, created_at)
    SELECT c.id, a.email, a.email_key, a.phone, a.password_hash, a.language, c.device_id, a.created_at
    FROM accounts a JOIN challenges c ON c.account_id = a.id AND c.purpose = 'confirm_email'
    WHERE a.status = 'unconfirmed';
UPDATE challenges SET account_id = '' WHERE purpose = 'confirm_email'
    AND account_id IN (SELECT id FROM accounts WHERE status = 'unconfirmed');
DELETE FROM accounts WHERE status = 'unconfirmed';

-- The holder's own time zone for pages and messages ('' = the default for
-- their language).
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- What a recorded password attempt was for: a sign-in, or the current
-- password typed on the change-password page.
ALTER TABLE signin_attempts ADD COLUMN kind TEXT NOT NULL DEFAULT 'signin';
