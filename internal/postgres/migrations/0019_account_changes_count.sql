-- The count of an account's changes that SQLite keeps (its migration 0018,
-- session.Kept): the two dialects have the same tables and columns, so that
-- migrate-data copies either way. PostgreSQL's nodes are told of changes
-- instead (0018's notifications) and leave it as it is: a count bumped by
-- triggers would make every write to an account's rows also lock the
-- account's record.
ALTER TABLE accounts ADD COLUMN changes BIGINT NOT NULL DEFAULT 0;
