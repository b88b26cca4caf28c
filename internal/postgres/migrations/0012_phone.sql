-- A phone number passes a second step (SMS codes) only once its holder
-- typed back the code sent to it. A number given at sign-up, or one from
-- an earlier version, stays unconfirmed (NULL) until then.
ALTER TABLE accounts ADD COLUMN phone_confirmed_at TIMESTAMPTZ;
