-- The request budget of each Congress.gov API key, shared by every worker
-- process on this database (internal/budget): a token bucket, keyed by a
-- hash of the key (never the key).
CREATE TABLE ops.api_budget (
    key_hash         text             PRIMARY KEY,
    -- The limit per window the pace follows: the announced limit, capped
    -- by CONGRESS_API_REQUESTS_PER_HOUR when that is set.
    limit_per_window int              NOT NULL,
    -- X-Ratelimit-Limit as the API last announced it; 0 until it does.
    announced_limit  int              NOT NULL DEFAULT 0,
    window_seconds   double precision NOT NULL,
    -- Refill (tokens a second), bucket size, and the bucket now.
    rate             double precision NOT NULL,
    burst            double precision NOT NULL,
    tokens           double precision NOT NULL,
    updated_at       timestamptz      NOT NULL DEFAULT clock_timestamp(),
    -- After a 429, no process sends before this.
    paused_until     timestamptz      NOT NULL DEFAULT 'epoch',
    -- Totals for the report: tokens granted, pauses; the latest
    -- X-Ratelimit-Remaining a process saw.
    granted          bigint           NOT NULL DEFAULT 0,
    paused           int              NOT NULL DEFAULT 0,
    remaining        int,
    remaining_at     timestamptz
);

-- Incremental sync: per endpoint (and per congress where a walk is per
-- congress; 0 for the list across congresses) the end of the last window
-- walked completely. It moves in the same transaction as the last page
-- of that window, never before.
CREATE TABLE ops.sync_state (
    endpoint   text        NOT NULL,
    congress   int         NOT NULL DEFAULT 0,
    watermark  timestamptz NOT NULL,
    walk_id    text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint, congress)
);
