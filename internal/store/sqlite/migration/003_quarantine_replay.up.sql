-- 003: quarantined rows keep their file line and whether a replay moved
-- them into a batch; a batch keeps its body format and CSV header, so its
-- quarantined rows can be read again against a later schema.

-- The 1-based line of the row in its file or body (a CSV header is line
-- 1); 0 for rows quarantined before this migration.
ALTER TABLE quarantine ADD COLUMN line INTEGER NOT NULL DEFAULT 0;
-- The batch a replay moved the row into; NULL while it was not. Set once.
ALTER TABLE quarantine ADD COLUMN replayed_batch_id INTEGER REFERENCES batches (id);
CREATE INDEX quarantine_pipeline_pending ON quarantine (pipeline, id) WHERE replayed_batch_id IS NULL;

-- csv, json, ndjson, replay; '' for batches stored before this migration.
ALTER TABLE batches ADD COLUMN format TEXT NOT NULL DEFAULT '';
-- The header line of a CSV body, as received.
ALTER TABLE batches ADD COLUMN header TEXT NOT NULL DEFAULT '';
