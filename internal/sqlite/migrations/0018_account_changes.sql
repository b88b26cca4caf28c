-- What a signed-in page shows about an account besides its record and its
-- session — its two-step methods, its trusted browsers, the browser it is
-- looked at from, the requests waiting for its answer — is kept by the
-- server with the session and used while the account's count of changes
-- stands (issue 20: the account page reads only its session while nothing
-- changed; session.Kept). Every write to those rows, whichever code path
-- and whichever process makes it (a `gatehouse` command on the same data
-- directory included), adds one to the count in the writing transaction,
-- and the session check reads the count with the session. A trigger rather
-- than a call in each store method, so that a new write path cannot forget
-- it. (PostgreSQL's nodes are told instead: its migration 0018.)
ALTER TABLE accounts ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;

-- The record itself: an update that is not the count's own (the phone
-- confirmed, the language chosen — the two-step methods offered depend on
-- the phone). Recursive triggers are off, and the WHEN would stop them.
CREATE TRIGGER accounts_update_counted AFTER UPDATE ON accounts WHEN NEW.changes = OLD.changes BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.id;
END;

-- Two-step verification on or off.
CREATE TRIGGER passkeys_insert_counted AFTER INSERT ON passkeys BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER passkeys_delete_counted AFTER DELETE ON passkeys BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = OLD.account_id;
END;
CREATE TRIGGER passkeys_update_counted AFTER UPDATE OF account_id, flagged ON passkeys BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER totp_apps_insert_counted AFTER INSERT ON totp_apps BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER totp_apps_delete_counted AFTER DELETE ON totp_apps BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = OLD.account_id;
END;
CREATE TRIGGER totp_apps_update_counted AFTER UPDATE OF account_id, confirmed_at ON totp_apps BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
-- Trusted browsers, and a device used since a request (it is no longer
-- waiting).
CREATE TRIGGER account_devices_insert_counted AFTER INSERT ON account_devices BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER account_devices_delete_counted AFTER DELETE ON account_devices BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = OLD.account_id;
END;
CREATE TRIGGER account_devices_update_counted AFTER UPDATE OF account_id, device_id, last_used_at, trusted_until ON account_devices BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
-- The requests waiting for an answer. (Rows that only age out, deleted by
-- retention long after they stopped waiting, need no count.)
CREATE TRIGGER signin_attempts_insert_counted AFTER INSERT ON signin_attempts BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER signin_attempts_update_counted AFTER UPDATE OF account_id, outcome, kind, cause, device_id ON signin_attempts BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER challenges_insert_counted AFTER INSERT ON challenges BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER challenges_update_counted AFTER UPDATE OF account_id, consumed_at, expires_at, attempt_id, device_id ON challenges BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER messages_insert_counted AFTER INSERT ON messages BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER messages_update_counted AFTER UPDATE OF account_id, status, challenge_id, cause ON messages BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER answers_insert_counted AFTER INSERT ON answers BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER answers_delete_counted AFTER DELETE ON answers BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id = OLD.account_id;
END;
CREATE TRIGGER answers_update_counted AFTER UPDATE ON answers BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;

-- A device's browser, system or token: every account using it.
CREATE TRIGGER devices_update_counted AFTER UPDATE OF browser, os, token_hash, previous_token_hash ON devices BEGIN
    UPDATE accounts SET changes = changes + 1 WHERE id IN (SELECT account_id FROM account_devices WHERE device_id = NEW.id);
END;
