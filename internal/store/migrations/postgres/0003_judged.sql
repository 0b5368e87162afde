-- PostgreSQL mirror of ../0003_judged.sql.

CREATE TABLE judged (
	key     TEXT COLLATE "C" PRIMARY KEY,   -- rules.JudgedKey(rule, series)
	through BIGINT           NOT NULL,      -- last settled day judged, unix ms (UTC midnight)
	state   TEXT COLLATE "C" NOT NULL
);
