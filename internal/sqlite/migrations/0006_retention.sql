-- Indexes for pruning (internal/retention): each batch finds the rows that
-- have outlived their use through an index instead of scanning the table,
-- so that a batch stays short even on a large database.
CREATE INDEX challenges_expires ON challenges (expires_at);
CREATE INDEX challenges_consumed ON challenges (consumed_at) WHERE consumed_at IS NOT NULL;
CREATE INDEX signin_attempts_created ON signin_attempts (created_at);
CREATE INDEX messages_status_created ON messages (status, created_at);
CREATE INDEX devices_last_seen ON devices (last_seen);
-- A device may be pruned only while no session refers to it.
CREATE INDEX sessions_device ON sessions (device_id);
