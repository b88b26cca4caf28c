-- When a message was last handed to the delivery driver. A message claimed
-- again with this set was interrupted mid-delivery (its node died); it is
-- sent again under the same idempotency key (its Message-Id).
ALTER TABLE messages ADD COLUMN handed_off_at INTEGER;
