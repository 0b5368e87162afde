-- The outbox: one row per planned delivery, written in the transaction that
-- saves the alert decision, so a crash between planning and sending loses
-- nothing. id is "<fingerprint>-<episode>-<status>-<notifier>-<seq>", seq
-- counting the messages of one (fingerprint, episode, status, notifier):
-- repeat reminders get 2, 3, .... claims counts the sends started for the
-- row (claimed_at the latest): a pending row with claims > 0 may already
-- have gone out. done_at is set, with outcome "sent" (the send is in sends,
-- written in the same transaction) or "dropped: ..." (never sent), once the
-- row needs nothing more.

CREATE TABLE outbox (
	id           TEXT    PRIMARY KEY,
	fingerprint  TEXT    NOT NULL REFERENCES alerts (fingerprint) ON DELETE CASCADE,
	episode      INTEGER NOT NULL,
	status       TEXT    NOT NULL,  -- firing or resolved message
	notifier     TEXT    NOT NULL,
	seq          INTEGER NOT NULL,
	reason       TEXT    NOT NULL,
	starts_at    TEXT    NOT NULL,
	ends_at      TEXT    NOT NULL,
	last_sent_at TEXT    NOT NULL,
	why          TEXT    NOT NULL,
	thread       TEXT    NOT NULL,  -- JSON cost.MessageRef, or ''
	finding      TEXT    NOT NULL,  -- the finding as JSON, as alerts.finding
	planned_at   TEXT    NOT NULL,
	claims       INTEGER NOT NULL DEFAULT 0,
	claimed_at   TEXT    NOT NULL DEFAULT '',
	done_at      TEXT    NOT NULL DEFAULT '',
	outcome      TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX outbox_fingerprint ON outbox (fingerprint);
CREATE INDEX outbox_pending ON outbox (done_at) WHERE done_at = '';
