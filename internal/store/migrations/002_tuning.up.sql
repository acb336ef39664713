-- One row per setting the tune stage changed with ALTER SYSTEM: enough to
-- show what a run did and to revert it. The row is written before the
-- ALTER SYSTEM runs, so a crash in between still leaves a way back.
CREATE TABLE IF NOT EXISTS ops.tuning_changes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id  text        NOT NULL,
    run_id       text        NOT NULL,
    name         text        NOT NULL,
    -- The value postgresql.auto.conf held before the change; NULL when it
    -- did not set the parameter (revert with ALTER SYSTEM RESET).
    old_value    text,
    -- The running value before the change, as SHOW printed it.
    old_display  text        NOT NULL DEFAULT '',
    new_value    text        NOT NULL,
    -- What makes the change take effect: reload or restart.
    context      text        NOT NULL CHECK (context IN ('reload', 'restart')),
    -- Where the value came from: pgtune, ingest or override.
    source       text        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'applied', 'failed', 'reverted')),
    error        text        NOT NULL DEFAULT '',
    changed_at   timestamptz NOT NULL DEFAULT now(),
    reverted_at  timestamptz,
    -- A retried apply must keep the first old value, not record its own
    -- earlier change as the old value.
    UNIQUE (run_id, name)
);

-- "What did tuning last do to parameter X?"
CREATE INDEX IF NOT EXISTS tuning_changes_name_idx ON ops.tuning_changes (name, changed_at DESC);
