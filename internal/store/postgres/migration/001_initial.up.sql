-- 001: datasets, batches, quarantine, model registry, runs, leases.
-- The same version and name as the SQLite backend's 001_initial; the same
-- tables and constraints in PostgreSQL types. Timestamps are timestamptz
-- written from the store's clock; JSON columns hold text, as on SQLite.

CREATE TABLE datasets (
    pipeline   text PRIMARY KEY,
    -- schema.Schema as JSON, the latest one passed to DatasetEnsure.
    schema     text NOT NULL,
    -- Column name -> storage column of the typed table ds_<pipeline>, as a
    -- JSON array [{"name": "age", "type": "number", "col": 4}] meaning c4.
    -- Storage names never come from user text; removed names stay here.
    -- BatchInsert locks this row: batches of one pipeline commit in id order.
    columns    text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE batches (
    -- One sequence for all pipelines: ids grow across pipelines.
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline        text NOT NULL REFERENCES datasets (pipeline),
    source          text NOT NULL DEFAULT '',
    accepted        bigint NOT NULL,
    rejected        bigint NOT NULL,
    idempotency_key text,
    request_sha256  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX batches_pipeline_idempotency_key ON batches (pipeline, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX batches_pipeline_id ON batches (pipeline, id) INCLUDE (accepted, rejected);

CREATE TABLE quarantine (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline   text NOT NULL,
    batch_id   bigint NOT NULL REFERENCES batches (id),
    row_index  integer NOT NULL,
    -- The row as received, byte for byte (it may not be valid UTF-8).
    raw        bytea NOT NULL,
    -- column name (or "_row") -> reason, as a JSON object.
    reasons    text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX quarantine_pipeline_id ON quarantine (pipeline, id);
CREATE INDEX quarantine_batch_id_row_index ON quarantine (batch_id, row_index);

CREATE TABLE model_versions (
    pipeline        text NOT NULL,
    version         integer NOT NULL,
    state           text NOT NULL
        CHECK (state IN ('candidate', 'production', 'archived', 'rejected')),
    algorithm       text NOT NULL DEFAULT '',
    metrics         text NOT NULL DEFAULT '{}',
    artifact_sha256 text NOT NULL DEFAULT '',
    artifact_key    text NOT NULL DEFAULT '',
    data_watermark  bigint NOT NULL DEFAULT 0,
    data_rows       bigint NOT NULL DEFAULT 0,
    data_sha256     text NOT NULL DEFAULT '',
    run_id          bigint NOT NULL DEFAULT 0,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (pipeline, version)
);
-- The database, not the code, guarantees at most one production version.
CREATE UNIQUE INDEX model_versions_one_production ON model_versions (pipeline)
    WHERE state = 'production';
CREATE UNIQUE INDEX model_versions_pipeline_run_id ON model_versions (pipeline, run_id)
    WHERE run_id > 0;

CREATE TABLE promotions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline     text NOT NULL,
    from_version integer NOT NULL DEFAULT 0,
    to_version   integer NOT NULL,
    action       text NOT NULL CHECK (action IN ('promote', 'rollback', 'auto')),
    actor        text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL
);
CREATE INDEX promotions_pipeline_id ON promotions (pipeline, id);
-- The promotion log is append-only.
CREATE FUNCTION promotions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'promotions is append-only';
END
$$;
CREATE TRIGGER promotions_no_change BEFORE UPDATE OR DELETE ON promotions
    FOR EACH ROW EXECUTE FUNCTION promotions_append_only();
CREATE TRIGGER promotions_no_truncate BEFORE TRUNCATE ON promotions
    FOR EACH STATEMENT EXECUTE FUNCTION promotions_append_only();

CREATE TABLE runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline        text NOT NULL,
    state           text NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    reason          text NOT NULL,
    created_at      timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz,
    version         integer NOT NULL DEFAULT 0,
    artifact_sha256 text NOT NULL DEFAULT '',
    error           text NOT NULL DEFAULT '',
    message         text NOT NULL DEFAULT '',
    attempt         integer NOT NULL DEFAULT 0,
    data_watermark  bigint NOT NULL DEFAULT 0,
    data_rows       bigint NOT NULL DEFAULT 0
);
-- At most one queued run per pipeline; RunCreate relies on it.
CREATE UNIQUE INDEX runs_one_queued ON runs (pipeline) WHERE state = 'queued';
CREATE INDEX runs_pipeline_id ON runs (pipeline, id);

CREATE TABLE leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);
