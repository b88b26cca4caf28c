-- The SQLite session cache (issue 21: forward-auth is the hot path of every
-- protected request) answers a session check from memory, so it must hear
-- of every change to what a cached session says — its revocation, its
-- re-verification, its account's record, status and everything counted in
-- accounts.changes (migration 0018) — from whichever process makes it: the
-- server's own flows, and a `gatehouse` command on the same file. Each such
-- change appends the account's id here in the writing transaction; the
-- server reads what is new after each of its own commits and a few times a
-- second for everyone else's (sqlite.DB.Watch), and forgets those
-- accounts' cached sessions. AUTOINCREMENT: a sequence never reused, so
-- the reader can tell what it has not read yet, and notice rows pruned
-- before it read them (a gap) and forget everything then. PostgreSQL's
-- nodes are told by LISTEN/NOTIFY instead.
CREATE TABLE session_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL
) STRICT;

-- Everything counted about an account (its record, methods, trusted
-- browsers, waiting requests) bumps accounts.changes, through 0018's
-- triggers or the record's own.
CREATE TRIGGER accounts_changes_logged AFTER UPDATE OF changes ON accounts WHEN NEW.changes <> OLD.changes BEGIN
    INSERT INTO session_changes (account_id) VALUES (NEW.id);
END;
CREATE TRIGGER accounts_delete_logged AFTER DELETE ON accounts BEGIN
    INSERT INTO session_changes (account_id) VALUES (OLD.id);
END;

-- A session's own change, except the once-a-minute note of its last use
-- (last_seen_at), which a cached copy keeps up to date itself.
CREATE TRIGGER sessions_update_logged AFTER UPDATE ON sessions WHEN
    NEW.token_hash IS NOT OLD.token_hash OR NEW.account_id IS NOT OLD.account_id OR
    NEW.device_id IS NOT OLD.device_id OR NEW.created_at IS NOT OLD.created_at OR
    NEW.authenticated_at IS NOT OLD.authenticated_at OR NEW.idle_timeout_us IS NOT OLD.idle_timeout_us OR
    NEW.absolute_expires_at IS NOT OLD.absolute_expires_at OR NEW.remember IS NOT OLD.remember OR
    NEW.ip IS NOT OLD.ip OR NEW.revoked_at IS NOT OLD.revoked_at OR NEW.amr IS NOT OLD.amr
BEGIN
    INSERT INTO session_changes (account_id) VALUES (OLD.account_id);
    INSERT INTO session_changes (account_id) SELECT NEW.account_id WHERE NEW.account_id <> OLD.account_id;
END;
CREATE TRIGGER sessions_delete_logged AFTER DELETE ON sessions BEGIN
    INSERT INTO session_changes (account_id) VALUES (OLD.account_id);
END;
