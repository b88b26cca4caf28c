-- The sign-in as a recorded request (two-step verification). An attempt
-- whose password was right but needs a second step stays
-- 'pending_second_step' until it passes, fails, is denied or expires; it
-- records the method offered and the method used, and whether the browser
-- asked to be remembered (the session starts only when it passes).
ALTER TABLE signin_attempts ADD COLUMN method_offered TEXT NOT NULL DEFAULT '';
ALTER TABLE signin_attempts ADD COLUMN method_used TEXT NOT NULL DEFAULT '';
ALTER TABLE signin_attempts ADD COLUMN remember BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE signin_attempts ADD COLUMN ended_at TIMESTAMPTZ;

-- How many times a challenge's code was sent (at most 3 per request).
ALTER TABLE challenges ADD COLUMN sends INTEGER NOT NULL DEFAULT 1;

-- The devices an account has been used on: a session started there. A
-- browser whose device is not in this list is a new device for the
-- account, and its sign-in asks for a second step (signin.new_device_check).
CREATE TABLE account_devices (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id     TEXT NOT NULL,
    first_used_at TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, device_id)
);

-- Devices that signed in before this table existed are known already.
INSERT INTO account_devices (account_id, device_id, first_used_at, last_used_at)
SELECT account_id, device_id, MIN(created_at), MAX(last_seen_at)
FROM sessions
WHERE device_id <> ''
GROUP BY account_id, device_id
ON CONFLICT DO NOTHING;
