-- What the anomaly rules judged per rule and series (rules.Judged): the last
-- settled day judged, the recent values as judged (to spot revisions) and
-- the episodes reported, as JSON.

CREATE TABLE judged (
	key     TEXT PRIMARY KEY,   -- rules.JudgedKey(rule, series)
	through INTEGER NOT NULL,   -- last settled day judged, unix ms (UTC midnight)
	state   TEXT    NOT NULL
) STRICT;
