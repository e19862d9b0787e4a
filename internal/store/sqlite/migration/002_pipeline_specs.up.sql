-- 002: pipeline specs as numbered versions, and the spec version each run
-- and model version used.

CREATE TABLE pipeline_specs (
    pipeline   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    -- hex sha256 of spec: SpecPut stores a version only when it differs.
    sha256     TEXT NOT NULL,
    -- the pipeline's spec in its canonical form (JSON text).
    spec       TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, version)
);

-- 0: made before spec versions existed.
ALTER TABLE runs ADD COLUMN spec_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE model_versions ADD COLUMN spec_version INTEGER NOT NULL DEFAULT 0;
