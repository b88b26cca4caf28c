-- "This wasn't me" and what it changes (issue 9).
--
-- An account's password can be marked compromised (a holder said a
-- password_known code was not theirs): the next sign-in must set a new one.
-- The new-device alert goes by email and/or SMS as the holder chose.
ALTER TABLE accounts ADD COLUMN password_compromised_at INTEGER;
ALTER TABLE accounts ADD COLUMN alert_email INTEGER NOT NULL DEFAULT 1;
ALTER TABLE accounts ADD COLUMN alert_sms INTEGER NOT NULL DEFAULT 0;

-- A holder's own name for a device ("work laptop").
ALTER TABLE account_devices ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- The cause of the codes of a pending attempt, as decided when the second
-- step was asked: the activity page shows it beside the outcome.
ALTER TABLE signin_attempts ADD COLUMN cause TEXT NOT NULL DEFAULT '';

-- Every answer a holder gave to "was this you?", with what it did.
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

-- "Someone mistyped": no codes to this destination from that sender's
-- device or network until the block ends.
CREATE TABLE send_blocks (
    destination TEXT NOT NULL,  -- lower-cased address or E.164 number
    device_id   TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    until       INTEGER NOT NULL
) STRICT;
CREATE INDEX send_blocks_destination ON send_blocks (destination, until);
CREATE INDEX send_blocks_until ON send_blocks (until);

-- Whose confirmed phone a number is: a code typed for someone else's
-- phone enrolment belongs in that holder's message center.
CREATE INDEX accounts_phone ON accounts (phone) WHERE phone <> '';
