-- 010: a run whose trainer stopped during an attempt (SIGINT/SIGTERM) is
-- interrupted: stored as state 'running' with interrupted = 1 (the state
-- CHECK of 001 is left alone), read back as state "interrupted". Its job
-- is queued again; the next attempt clears the flag.
ALTER TABLE runs ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
