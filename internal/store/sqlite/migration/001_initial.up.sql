-- 001: datasets, batches, quarantine, model registry, runs, leases.
-- Timestamps are UTC text with a fixed width (2006-01-02T15:04:05.000000000Z)
-- so that they sort and compare as text. JSON columns hold text.

CREATE TABLE datasets (
    pipeline   TEXT PRIMARY KEY,
    -- schema.Schema as JSON, the latest one passed to DatasetEnsure.
    schema     TEXT NOT NULL,
    -- Column name -> storage column of the typed table ds_<pipeline>, as a
    -- JSON array [{"name": "age", "type": "number", "col": 4}] meaning c4.
    -- Storage names never come from user text; removed names stay here.
    columns    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE batches (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline        TEXT NOT NULL REFERENCES datasets (pipeline),
    source          TEXT NOT NULL DEFAULT '',
    accepted        INTEGER NOT NULL,
    rejected        INTEGER NOT NULL,
    idempotency_key TEXT,
    request_sha256  TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX batches_pipeline_idempotency_key ON batches (pipeline, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX batches_pipeline_id ON batches (pipeline, id);

CREATE TABLE quarantine (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline   TEXT NOT NULL,
    batch_id   INTEGER NOT NULL REFERENCES batches (id),
    row_index  INTEGER NOT NULL,
    raw        TEXT NOT NULL,
    -- column name (or "_row") -> reason, as a JSON object.
    reasons    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX quarantine_pipeline_id ON quarantine (pipeline, id);
CREATE INDEX quarantine_batch_id_row_index ON quarantine (batch_id, row_index);

CREATE TABLE model_versions (
    pipeline        TEXT NOT NULL,
    version         INTEGER NOT NULL,
    state           TEXT NOT NULL
        CHECK (state IN ('candidate', 'production', 'archived', 'rejected')),
    algorithm       TEXT NOT NULL DEFAULT '',
    metrics         TEXT NOT NULL DEFAULT '{}',
    artifact_sha256 TEXT NOT NULL DEFAULT '',
    artifact_key    TEXT NOT NULL DEFAULT '',
    data_watermark  INTEGER NOT NULL DEFAULT 0,
    data_rows       INTEGER NOT NULL DEFAULT 0,
    data_sha256     TEXT NOT NULL DEFAULT '',
    run_id          INTEGER NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    PRIMARY KEY (pipeline, version)
);
-- The database, not the code, guarantees at most one production version.
CREATE UNIQUE INDEX model_versions_one_production ON model_versions (pipeline)
    WHERE state = 'production';
CREATE UNIQUE INDEX model_versions_pipeline_run_id ON model_versions (pipeline, run_id)
    WHERE run_id > 0;

CREATE TABLE promotions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline     TEXT NOT NULL,
    from_version INTEGER NOT NULL DEFAULT 0,
    to_version   INTEGER NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('promote', 'rollback', 'auto')),
    actor        TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
CREATE INDEX promotions_pipeline_id ON promotions (pipeline, id);
-- The promotion log is append-only.
CREATE TRIGGER promotions_no_update BEFORE UPDATE ON promotions
BEGIN
    SELECT RAISE(ABORT, 'promotions is append-only');
END;
CREATE TRIGGER promotions_no_delete BEFORE DELETE ON promotions
BEGIN
    SELECT RAISE(ABORT, 'promotions is append-only');
END;

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline        TEXT NOT NULL,
    state           TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    reason          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT,
    version         INTEGER NOT NULL DEFAULT 0,
    artifact_sha256 TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    message         TEXT NOT NULL DEFAULT '',
    attempt         INTEGER NOT NULL DEFAULT 0,
    data_watermark  INTEGER NOT NULL DEFAULT 0,
    data_rows       INTEGER NOT NULL DEFAULT 0
);
-- At most one queued run per pipeline; RunCreate relies on it.
CREATE UNIQUE INDEX runs_one_queued ON runs (pipeline) WHERE state = 'queued';
CREATE INDEX runs_pipeline_id ON runs (pipeline, id);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
