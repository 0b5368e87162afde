-- Why an alert resolved (alert.State.Why), sent with its resolved message.
-- Alerts stored before this migration keep an empty reason.

ALTER TABLE alerts ADD COLUMN why TEXT NOT NULL DEFAULT '';
