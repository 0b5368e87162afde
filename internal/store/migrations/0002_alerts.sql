-- Alert state, the per-notifier send log and user actions.

CREATE TABLE alerts (
	fingerprint  TEXT    PRIMARY KEY,
	group_key    TEXT    NOT NULL,
	kind         TEXT    NOT NULL,
	rule         TEXT    NOT NULL,
	account      TEXT    NOT NULL,
	family       TEXT    NOT NULL,
	service      TEXT    NOT NULL,
	zone         TEXT    NOT NULL,
	period_start TEXT    NOT NULL,
	period_end   TEXT    NOT NULL,
	threshold    TEXT    NOT NULL,
	severity     TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	reason       TEXT    NOT NULL,
	episode      INTEGER NOT NULL,
	starts_at    TEXT    NOT NULL,
	ends_at      TEXT    NOT NULL,
	updated_at   TEXT    NOT NULL,
	finding      TEXT    NOT NULL   -- the latest finding as JSON
) STRICT;

CREATE INDEX alerts_group ON alerts (group_key);
CREATE INDEX alerts_status ON alerts (status);

CREATE TABLE sends (
	fingerprint   TEXT    NOT NULL REFERENCES alerts (fingerprint) ON DELETE CASCADE,
	episode       INTEGER NOT NULL,
	notifier      TEXT    NOT NULL,
	status        TEXT    NOT NULL,  -- firing or resolved message
	first_sent_at TEXT    NOT NULL,
	sent_at       TEXT    NOT NULL,
	channel       TEXT    NOT NULL,
	ts            TEXT    NOT NULL,
	PRIMARY KEY (fingerprint, episode, notifier, status)
) STRICT;

CREATE TABLE actions (
	id          INTEGER PRIMARY KEY,
	fingerprint TEXT    NOT NULL REFERENCES alerts (fingerprint) ON DELETE CASCADE,
	kind        TEXT    NOT NULL,
	user_name   TEXT    NOT NULL,
	at          TEXT    NOT NULL,
	until       TEXT    NOT NULL,
	series      TEXT    NOT NULL
) STRICT;

CREATE INDEX actions_fingerprint ON actions (fingerprint);
CREATE INDEX actions_kind ON actions (kind);
