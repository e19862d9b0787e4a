-- 008: scoped API tokens. Only the sha256 of a token is stored.
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    -- hex sha256 of the token the client sends.
    hash       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL DEFAULT '',
    -- predict, ingest, operator or admin.
    role       TEXT NOT NULL,
    -- '' for every pipeline.
    pipeline   TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
