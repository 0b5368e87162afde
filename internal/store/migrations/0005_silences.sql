-- Silences (alert.Silence): matchers in Alertmanager's syntax, a JSON array
-- of strings such as "service=~\"R2.*\"", with start and end (RFC 3339, UTC;
-- expiring one sets ends_at), author and comment.

CREATE TABLE silences (
	id         TEXT PRIMARY KEY,
	matchers   TEXT NOT NULL,
	starts_at  TEXT NOT NULL,
	ends_at    TEXT NOT NULL,
	created_by TEXT NOT NULL,
	comment    TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE INDEX silences_ends_at ON silences (ends_at);
