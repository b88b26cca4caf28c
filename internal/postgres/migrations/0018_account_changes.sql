-- What a signed-in page shows about an account besides its record and its
-- session — its two-step methods, its trusted browsers, the browser it is
-- looked at from, the requests waiting for its answer — is kept by each
-- node with the cached session (issue 20: the account page reads nothing
-- while nothing changed). Every write to those rows, whichever code path
-- makes it, tells every node to forget the account's cached sessions, in
-- the writing transaction: delivered on commit, never on rollback (see
-- notify.go). A trigger rather than a call in each store method, so that a
-- new write path cannot forget it.
--
-- The notification reaches every node after the commit; the notice
-- reaches the writing node's connection at once (postgres.DB.onNotice), so
-- that the browser that made a change sees it on its next page.
CREATE FUNCTION gatehouse_account_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.account_id <> '' THEN
        PERFORM pg_notify('gatehouse_sessions', 'account:' || OLD.account_id);
        RAISE NOTICE 'gatehouse account changed: %', OLD.account_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.account_id <> '' THEN
        PERFORM pg_notify('gatehouse_sessions', 'account:' || NEW.account_id);
        RAISE NOTICE 'gatehouse account changed: %', NEW.account_id;
    END IF;
    RETURN NULL;
END
$$;

-- Two-step verification on or off.
CREATE TRIGGER passkeys_changed AFTER INSERT OR DELETE OR UPDATE OF account_id, flagged ON passkeys
    FOR EACH ROW EXECUTE FUNCTION gatehouse_account_changed();
CREATE TRIGGER totp_apps_changed AFTER INSERT OR DELETE OR UPDATE OF account_id, confirmed_at ON totp_apps
    FOR EACH ROW EXECUTE FUNCTION gatehouse_account_changed();
-- Trusted browsers, and a device used since a request (it is no longer
-- waiting).
CREATE TRIGGER account_devices_changed AFTER INSERT OR DELETE OR UPDATE OF account_id, device_id, last_used_at, trusted_until ON account_devices
    FOR EACH ROW EXECUTE FUNCTION gatehouse_account_changed();
-- The requests waiting for an answer. (Rows that only age out, deleted by
-- retention long after they stopped waiting, need no word.)
CREATE TRIGGER signin_attempts_changed AFTER INSERT OR UPDATE OF account_id, outcome, kind, cause, device_id ON signin_attempts
    FOR EACH ROW EXECUTE FUNCTION gatehouse_account_changed();
CREATE TRIGGER challenges_changed AFTER INSERT OR UPDATE OF account_id, consumed_at, expires_at, attempt_id, device_id ON challenges
    FOR EACH ROW EXECUTE FUNCTION gatehouse_account_changed();
CREATE TRIGGER messages_changed AFTER INSERT OR UPDATE OF account_id, status, challenge_id, cause ON messages
    FOR EACH ROW EXECUTE FUNCTION gatehouse_account_changed();
CREATE TRIGGER answers_changed AFTER INSERT OR DELETE OR UPDATE ON answers
    FOR EACH ROW EXECUTE FUNCTION gatehouse_account_changed();

-- A device's browser, system or token: every account using it.
CREATE FUNCTION gatehouse_device_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a TEXT;
BEGIN
    FOR a IN SELECT account_id FROM account_devices WHERE device_id = NEW.id LOOP
        PERFORM pg_notify('gatehouse_sessions', 'account:' || a);
        RAISE NOTICE 'gatehouse account changed: %', a;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER devices_changed AFTER UPDATE OF browser, os, token_hash, previous_token_hash ON devices
    FOR EACH ROW EXECUTE FUNCTION gatehouse_device_changed();
