-- One row per report (the report stage, ReportWorkflow, starter report):
-- the whole report as jsonb, and the figures a trend reads as columns, so
-- reports can be compared over time (starter report --since 7d).
CREATE TABLE IF NOT EXISTS ops.reports (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id        text        NOT NULL,
    run_id             text        NOT NULL,
    collected_at       timestamptz NOT NULL,
    summary            text        NOT NULL,
    server_version_num int         NOT NULL,
    database           text        NOT NULL,
    -- pg_database_size of the database, and the total size of schema
    -- congress (tables, indexes, TOAST).
    database_bytes     bigint      NOT NULL,
    congress_bytes     bigint      NOT NULL,
    report             jsonb       NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- A retried activity updates its run's row instead of adding one.
    UNIQUE (workflow_id, run_id)
);

CREATE INDEX IF NOT EXISTS reports_collected_at_idx ON ops.reports (collected_at DESC);
