-- The table of applied migrations, created before any migration runs.
-- applied_at is UTC text, as every SQLite timestamp.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
