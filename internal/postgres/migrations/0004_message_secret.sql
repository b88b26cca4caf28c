-- A code inside a message is never stored readable: the stored text shows a
-- mask, and the code itself is kept here sealed with the installation's
-- encryption key only until the message is delivered.
ALTER TABLE messages ADD COLUMN secret BYTEA;
