-- Facts about the installation as a whole. key_fingerprint records which
-- secrets the database was created with, so that a node started with other
-- secrets refuses to start instead of rejecting every other node's sessions.
CREATE TABLE installation (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
