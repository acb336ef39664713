-- postgresql.auto.conf as a tune run found it before its first ALTER
-- SYSTEM, read through the server: what a restart that does not bring the
-- server back is undone with. One row per run; a retried apply keeps the
-- first.
--
-- The file holds every ALTER SYSTEM setting, an operator's too
-- (primary_conninfo may carry a password), so the table is as private as
-- the file: only its owner reads it.
CREATE TABLE IF NOT EXISTS ops.tuning_snapshots (
    run_id          text        PRIMARY KEY,
    workflow_id     text        NOT NULL,
    -- The server's data_directory: where the file lives.
    data_directory  text        NOT NULL,
    -- How the file was read: pg_read_file, or rebuilt line by line from
    -- pg_file_settings when the role may not read server files.
    source          text        NOT NULL CHECK (source IN ('pg_read_file', 'pg_file_settings')),
    before_content  text        NOT NULL,
    -- The file once the run's ALTER SYSTEM statements ran; NULL until
    -- the apply finished.
    after_content   text,
    taken_at        timestamptz NOT NULL DEFAULT now(),
    -- Set when the worker wrote before_content back.
    restored_at     timestamptz
);

REVOKE ALL ON ops.tuning_snapshots FROM PUBLIC;
