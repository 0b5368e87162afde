-- PostgreSQL mirror of ../0007_usage_clustered.sql: rowid becomes seq, the
-- tiebreak of equal keys that SaveSnapshot numbers itself (no identity), and
-- the primary key is the read order, in place of the two indexes.

ALTER TABLE usage RENAME COLUMN rowid TO seq;
ALTER TABLE usage ALTER COLUMN seq DROP IDENTITY;
ALTER TABLE usage DROP CONSTRAINT usage_pkey;
DROP INDEX usage_account_day;
DROP INDEX usage_day;
ALTER TABLE usage ADD CONSTRAINT usage_pkey PRIMARY KEY (account, day, family, service, zone, correction, seq);
