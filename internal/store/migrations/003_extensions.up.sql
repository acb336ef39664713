-- One row per extension per run of the extensions stage: what the installer
-- found or did. A retried activity replaces its rows rather than adding more.
CREATE TABLE IF NOT EXISTS ops.extension_results (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id   text        NOT NULL,
    run_id        text        NOT NULL,
    activity_id   text        NOT NULL DEFAULT '',
    -- The database the extension was installed in.
    database_name text        NOT NULL,
    name          text        NOT NULL,
    category      text        NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN
        ('installed', 'already_present', 'needs_preload', 'not_available', 'not_permitted', 'failed', 'installable')),
    version       text        NOT NULL DEFAULT '',
    detail        text        NOT NULL DEFAULT '',
    package       text        NOT NULL DEFAULT '',
    privilege     text        NOT NULL DEFAULT '',
    check_only    boolean     NOT NULL DEFAULT false,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workflow_id, run_id, database_name, name)
);

-- "What is the latest outcome for extension X in database D?"
CREATE INDEX IF NOT EXISTS extension_results_latest_idx
    ON ops.extension_results (database_name, name, recorded_at DESC);
