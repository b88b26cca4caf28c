-- Is this message genuine? (issue 10)
--
-- The raw bytes of an email as the development driver "delivered" it —
-- exactly what the SMTP driver would have sent, DKIM signatures included —
-- served at /dev/messages/{reference}.eml. Sealed with the installation key
-- (AAD the message id), because the bytes hold the code. Real drivers keep
-- nothing: the stored message and the DKIM keys are what the checker needs.
CREATE TABLE message_raw (
    message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    raw        BLOB NOT NULL
);

-- A message a signed-in holder chose to report from the checker. Nothing
-- pasted into the checker is kept otherwise.
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
);
CREATE INDEX reports_account ON reports (account_id, created_at DESC);
CREATE INDEX reports_created ON reports (created_at DESC);
