-- Usage rows in one clustered B-tree instead of a table and two indexes:
-- a WITHOUT ROWID table whose primary key is the order every read asks
-- for (account, day, family, service, zone, correction), ending with seq,
-- the insertion order SQLite's implicit rowid gave (the tiebreak of equal
-- keys, copied from rowid here; SaveSnapshot numbers new rows after the
-- account's stored rows of the same days). A backfill then writes each row
-- once, not three times, and a read of one account or of every account
-- walks the key in order with no sort.

CREATE TABLE usage_clustered (
	seq          INTEGER NOT NULL,
	account      TEXT    NOT NULL,
	service      TEXT    NOT NULL,
	family       TEXT    NOT NULL,
	zone         TEXT    NOT NULL,
	day          INTEGER NOT NULL,
	period_start INTEGER NOT NULL,
	period_end   INTEGER NOT NULL,
	cost         REAL,              -- NULL only for NaN
	cost_known   INTEGER NOT NULL,
	currency     TEXT    NOT NULL,
	quantity     REAL,              -- NULL only for NaN
	unit         TEXT    NOT NULL,
	correction   INTEGER NOT NULL,
	PRIMARY KEY (account, day, family, service, zone, correction, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO usage_clustered (seq, account, service, family, zone, day, period_start, period_end, cost, cost_known,
	currency, quantity, unit, correction)
SELECT rowid, account, service, family, zone, day, period_start, period_end, cost, cost_known,
	currency, quantity, unit, correction FROM usage ORDER BY account, day, family, service, zone, correction, rowid;

DROP TABLE usage; -- and its indexes usage_account_day and usage_day
ALTER TABLE usage_clustered RENAME TO usage;
