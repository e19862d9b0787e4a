-- 002: pipeline specs as numbered versions, and the spec version each run
-- and model version used. The same version and name as the SQLite
-- backend's 002_pipeline_specs.

CREATE TABLE pipeline_specs (
    pipeline   text NOT NULL,
    version    integer NOT NULL,
    -- hex sha256 of spec: SpecPut stores a version only when it differs.
    sha256     text NOT NULL,
    -- the pipeline's spec in its canonical form (JSON text).
    spec       text NOT NULL,
    source     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (pipeline, version)
);

-- 0: made before spec versions existed.
ALTER TABLE runs ADD COLUMN spec_version integer NOT NULL DEFAULT 0;
ALTER TABLE model_versions ADD COLUMN spec_version integer NOT NULL DEFAULT 0;
