-- Bookkeeping schema: everything the pipeline records about its own runs.
CREATE SCHEMA IF NOT EXISTS ops;

-- One row per AnalyzeSystem run: the probed hardware profile.
CREATE TABLE IF NOT EXISTS ops.system_analyses (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id  text        NOT NULL,
    run_id       text        NOT NULL,
    hostname     text        NOT NULL,
    effective_cpus   double precision NOT NULL,
    effective_memory bigint  NOT NULL,
    profile      jsonb       NOT NULL,
    collected_at timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- A retried activity must not record the same run twice.
    UNIQUE (workflow_id, run_id)
);
