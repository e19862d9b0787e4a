-- A run's (and the version it made) data checks report (JSON list of {column, check, severity,
-- expected, seen, passed}; '' when the run made none).
ALTER TABLE runs ADD COLUMN checks TEXT NOT NULL DEFAULT '';
ALTER TABLE model_versions ADD COLUMN checks TEXT NOT NULL DEFAULT '';
