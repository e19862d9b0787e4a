-- 003: quarantined rows keep their file line and whether a replay moved
-- them into a batch; a batch keeps its body format and CSV header, so its
-- quarantined rows can be read again against a later schema. The same
-- version and name as the SQLite backend's 003_quarantine_replay.

-- The 1-based line of the row in its file or body (a CSV header is line
-- 1); 0 for rows quarantined before this migration.
ALTER TABLE quarantine ADD COLUMN line integer NOT NULL DEFAULT 0;
-- The batch a replay moved the row into; NULL while it was not. Set once.
ALTER TABLE quarantine ADD COLUMN replayed_batch_id bigint REFERENCES batches (id);
CREATE INDEX quarantine_pipeline_pending ON quarantine (pipeline, id) WHERE replayed_batch_id IS NULL;

-- csv, json, ndjson, replay; '' for batches stored before this migration.
ALTER TABLE batches ADD COLUMN format text NOT NULL DEFAULT '';
-- The header line of a CSV body, byte for byte as received.
ALTER TABLE batches ADD COLUMN header bytea NOT NULL DEFAULT ''::bytea;
