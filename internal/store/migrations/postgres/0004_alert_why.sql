-- PostgreSQL mirror of ../0004_alert_why.sql.

ALTER TABLE alerts ADD COLUMN why TEXT COLLATE "C" NOT NULL DEFAULT '';
