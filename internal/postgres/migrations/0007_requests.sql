-- A code is only ever sent on behalf of one recorded request, for one cause
-- (the cause table in PRODUCT.md). The challenge now keeps the whole origin
-- of its request, the sign-in attempt it answers (empty for a sign-up or a
-- reset, where the challenge is the request), its cause and its channel; a
-- message keeps the challenge it carries a code for and the same cause, so
-- the message center and "this wasn't me" can reason from them later.
ALTER TABLE challenges ADD COLUMN attempt_id TEXT NOT NULL DEFAULT '';
ALTER TABLE challenges ADD COLUMN cause TEXT NOT NULL DEFAULT '';
ALTER TABLE challenges ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
ALTER TABLE challenges ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE challenges ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN challenge_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN cause TEXT NOT NULL DEFAULT '';

-- Challenges made before causes were recorded: the two purposes there were
-- each have one cause.
UPDATE challenges SET cause = 'mistyped' WHERE purpose = 'confirm_email';
UPDATE challenges SET cause = 'reset_requested' WHERE purpose = 'reset_password';
UPDATE messages SET cause = 'mistyped' WHERE purpose = 'confirm_email';
UPDATE messages SET cause = 'reset_requested' WHERE purpose = 'reset_password';
