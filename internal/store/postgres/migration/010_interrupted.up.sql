-- 010: a run whose trainer stopped during an attempt (SIGINT/SIGTERM) is
-- interrupted: stored as state 'running' with interrupted = 1 (the same
-- on both backends: SQLite cannot change the state CHECK of 001 in place),
-- read back as state "interrupted". Its job is queued again; the next
-- attempt clears the flag.
ALTER TABLE runs ADD COLUMN interrupted integer NOT NULL DEFAULT 0;
