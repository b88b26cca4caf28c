-- A code an application caused: an application the holder connected
-- (OpenID Connect) asked for a fresh sign-in or a step-up, and the code's
-- cause is connected_app. The request (challenge) and the step-up attempt
-- record which application (its client id, for "this wasn't me" to
-- disconnect it, and its name as it was then, for the activity page), and
-- the message its name, for the message center and /why. Every other row
-- names none ('').
ALTER TABLE challenges ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
ALTER TABLE challenges ADD COLUMN app_name TEXT NOT NULL DEFAULT '';
ALTER TABLE signin_attempts ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
ALTER TABLE signin_attempts ADD COLUMN app_name TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN app_name TEXT NOT NULL DEFAULT '';
