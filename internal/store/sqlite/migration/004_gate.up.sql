-- The promotion gate's comparison of a version with production (JSON,
-- '' when none was made) and, on a run, the existing version whose
-- artifact the run reproduced (0: none).
ALTER TABLE model_versions ADD COLUMN gate TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN same_as INTEGER NOT NULL DEFAULT 0;
