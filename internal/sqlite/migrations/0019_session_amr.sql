-- How the holder proved who they are in a session, as RFC 8176 method
-- references separated by spaces ("pwd otp mfa"): set when the session
-- starts, extended by each step-up. Forward-auth reports it to the
-- applications behind a proxy (X-Gatehouse-AMR), and ID tokens carry it.
-- Sessions from before it say nothing ('').
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
