-- PostgreSQL mirror of ../0005_silences.sql.

CREATE TABLE silences (
	id         TEXT COLLATE "C" PRIMARY KEY,
	matchers   TEXT COLLATE "C" NOT NULL,
	starts_at  TEXT COLLATE "C" NOT NULL,
	ends_at    TEXT COLLATE "C" NOT NULL,
	created_by TEXT COLLATE "C" NOT NULL,
	comment    TEXT COLLATE "C" NOT NULL,
	updated_at TEXT COLLATE "C" NOT NULL
);

CREATE INDEX silences_ends_at ON silences (ends_at);
