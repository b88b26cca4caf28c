-- The messages of one request (a code, its resends): the message center
-- gives a new account the codes its sign-up was sent, and "why did I get
-- this code?" reads a message's request back. Only code messages have one.
CREATE INDEX messages_challenge ON messages (challenge_id) WHERE challenge_id <> '';
