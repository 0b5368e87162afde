-- Usage history, payment cards and the fetch log.
-- Charge days and billing periods are unix milliseconds (UTC) so range scans
-- use the index; event times are UTC RFC 3339 text with nanoseconds.

CREATE TABLE usage (
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
	correction   INTEGER NOT NULL
) STRICT;

CREATE INDEX usage_account_day ON usage (account, day);
CREATE INDEX usage_day ON usage (day);

CREATE TABLE cards (
	account      TEXT    PRIMARY KEY,
	expiry_month INTEGER NOT NULL,
	expiry_year  INTEGER NOT NULL,
	masked       TEXT    NOT NULL,
	updated_at   TEXT    NOT NULL
) STRICT;

CREATE TABLE fetches (
	id          INTEGER PRIMARY KEY,
	account     TEXT    NOT NULL,
	at          TEXT    NOT NULL,
	range_start INTEGER,
	range_end   INTEGER,
	ok          INTEGER NOT NULL,
	rows        INTEGER NOT NULL,
	error       TEXT    NOT NULL
) STRICT;

CREATE INDEX fetches_account ON fetches (account, id);
