-- The Congress.gov data: one table per list endpoint of the client's
-- registry (internal/congress.Endpoints), named after it with '-' as '_'.
--
-- Every table has
--   * the endpoint's natural key as its primary key (congress-api.md §3),
--   * the typed columns people query (the registry's Columns), and
--     update_date, the item's last update as the API served it,
--   * data: the item exactly as the API served it (jsonb), so any row can
--     be checked against the source,
--   * content_hash: SHA-256 of the item's compact JSON; an upsert whose
--     hash is unchanged writes nothing,
--   * first_seen_at (first stored), last_seen_at (last confirmed by a walk,
--     refreshed at most daily so that an unchanged re-ingest writes
--     nothing), updated_at (last change of content).
--
-- Indexes beyond the primary keys (README: "Tables and indexes"):
--   * update_date on every table: "what changed since", incremental sync;
--   * congress where the primary key does not lead with it;
--   * GIN (jsonb_path_ops) on data where items nest what the typed columns
--     leave out: member terms, committee subcommittees, law references,
--     nomination types, congress sessions;
--   * bill: latest_action_date, introduced_date.
CREATE SCHEMA IF NOT EXISTS congress;

-- bill
CREATE TABLE congress.bill (
    congress                     bigint NOT NULL,
    type                         text NOT NULL,
    number                       text NOT NULL,
    title                        text,
    origin_chamber               text,
    introduced_date              date,
    update_date_including_text   timestamptz,
    latest_action_date           date,
    latest_action_text           text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, type, number)
);
CREATE INDEX bill_update_date_idx ON congress.bill (update_date);

-- amendment
CREATE TABLE congress.amendment (
    congress                     bigint NOT NULL,
    type                         text NOT NULL,
    number                       text NOT NULL,
    description                  text,
    purpose                      text,
    latest_action_date           date,
    latest_action_text           text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, type, number)
);
CREATE INDEX amendment_update_date_idx ON congress.amendment (update_date);

-- summaries
CREATE TABLE congress.summaries (
    bill_congress                bigint NOT NULL,
    bill_type                    text NOT NULL,
    bill_number                  text NOT NULL,
    version_code                 text NOT NULL,
    action_date                  date,
    action_desc                  text,
    current_chamber              text,
    last_summary_update_date     timestamptz,
    bill_title                   text,
    text                         text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bill_congress, bill_type, bill_number, version_code)
);
CREATE INDEX summaries_update_date_idx ON congress.summaries (update_date);

-- member
CREATE TABLE congress.member (
    bioguide_id                  text NOT NULL,
    name                         text,
    party_name                   text,
    state                        text,
    district                     bigint,
    terms                        jsonb,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bioguide_id)
);
CREATE INDEX member_update_date_idx ON congress.member (update_date);

-- committee
CREATE TABLE congress.committee (
    system_code                  text NOT NULL,
    name                         text,
    chamber                      text,
    committee_type_code          text,
    parent_system_code           text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (system_code)
);
CREATE INDEX committee_update_date_idx ON congress.committee (update_date);

-- committee-report
CREATE TABLE congress.committee_report (
    congress                     bigint NOT NULL,
    type                         text NOT NULL,
    number                       bigint NOT NULL,
    part                         bigint NOT NULL,
    citation                     text,
    chamber                      text,
    cmte_rpt_id                  bigint,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, type, number, part)
);
CREATE INDEX committee_report_update_date_idx ON congress.committee_report (update_date);

-- nomination
CREATE TABLE congress.nomination (
    congress                     bigint NOT NULL,
    number                       bigint NOT NULL,
    part_number                  text NOT NULL,
    citation                     text,
    description                  text,
    organization                 text,
    received_date                date,
    is_civilian                  boolean,
    is_military                  boolean,
    latest_action_date           date,
    latest_action_text           text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, number, part_number)
);
CREATE INDEX nomination_update_date_idx ON congress.nomination (update_date);

-- treaty
CREATE TABLE congress.treaty (
    congress_received            bigint NOT NULL,
    number                       bigint NOT NULL,
    suffix                       text NOT NULL,
    topic                        text,
    transmitted_date             timestamptz,
    congress_considered          bigint,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress_received, number, suffix)
);
CREATE INDEX treaty_update_date_idx ON congress.treaty (update_date);

-- law
CREATE TABLE congress.law (
    congress                     bigint NOT NULL,
    type                         text NOT NULL,
    number                       text NOT NULL,
    title                        text,
    law_type                     text,
    law_number                   text,
    laws                         jsonb,
    latest_action_date           date,
    latest_action_text           text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, type, number)
);
CREATE INDEX law_update_date_idx ON congress.law (update_date);

-- hearing
CREATE TABLE congress.hearing (
    congress                     bigint NOT NULL,
    chamber                      text NOT NULL,
    jacket_number                bigint NOT NULL,
    number                       bigint,
    part                         bigint,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, chamber, jacket_number)
);
CREATE INDEX hearing_update_date_idx ON congress.hearing (update_date);

-- house-vote
CREATE TABLE congress.house_vote (
    congress                     bigint NOT NULL,
    session_number               bigint NOT NULL,
    roll_call_number             bigint NOT NULL,
    identifier                   bigint,
    start_date                   timestamptz,
    vote_type                    text,
    result                       text,
    legislation_type             text,
    legislation_number           text,
    amendment_type               text,
    amendment_number             text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, session_number, roll_call_number)
);
CREATE INDEX house_vote_update_date_idx ON congress.house_vote (update_date);

-- congress
CREATE TABLE congress.congress (
    number                       bigint NOT NULL,
    name                         text,
    start_year                   bigint,
    end_year                     bigint,
    sessions                     jsonb,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (number)
);
CREATE INDEX congress_update_date_idx ON congress.congress (update_date);

-- committee-print
CREATE TABLE congress.committee_print (
    congress                     bigint NOT NULL,
    chamber                      text NOT NULL,
    jacket_number                bigint NOT NULL,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, chamber, jacket_number)
);
CREATE INDEX committee_print_update_date_idx ON congress.committee_print (update_date);

-- committee-meeting
CREATE TABLE congress.committee_meeting (
    congress                     bigint NOT NULL,
    chamber                      text NOT NULL,
    event_id                     text NOT NULL,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, chamber, event_id)
);
CREATE INDEX committee_meeting_update_date_idx ON congress.committee_meeting (update_date);

-- house-communication
CREATE TABLE congress.house_communication (
    congress                     bigint NOT NULL,
    communication_type           text NOT NULL,
    number                       bigint NOT NULL,
    communication_type_name      text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, communication_type, number)
);
CREATE INDEX house_communication_update_date_idx ON congress.house_communication (update_date);

-- senate-communication
CREATE TABLE congress.senate_communication (
    congress                     bigint NOT NULL,
    communication_type           text NOT NULL,
    number                       bigint NOT NULL,
    communication_type_name      text,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (congress, communication_type, number)
);
CREATE INDEX senate_communication_update_date_idx ON congress.senate_communication (update_date);

-- house-requirement
CREATE TABLE congress.house_requirement (
    number                       bigint NOT NULL,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (number)
);
CREATE INDEX house_requirement_update_date_idx ON congress.house_requirement (update_date);

-- crsreport
CREATE TABLE congress.crsreport (
    id                           text NOT NULL,
    title                        text,
    content_type                 text,
    status                       text,
    publish_date                 timestamptz,
    version                      bigint,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);
CREATE INDEX crsreport_update_date_idx ON congress.crsreport (update_date);

-- daily-congressional-record
CREATE TABLE congress.daily_congressional_record (
    volume_number                bigint NOT NULL,
    issue_number                 text NOT NULL,
    congress                     bigint,
    session_number               bigint,
    issue_date                   timestamptz,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (volume_number, issue_number)
);
CREATE INDEX daily_congressional_record_update_date_idx ON congress.daily_congressional_record (update_date);

-- bound-congressional-record
CREATE TABLE congress.bound_congressional_record (
    date                         text NOT NULL,
    volume_number                bigint NOT NULL,
    section                      text NOT NULL,
    congress                     bigint,
    session_number               bigint,
    sections                     jsonb,
    update_date                  timestamptz,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (date, volume_number, section)
);
CREATE INDEX bound_congressional_record_update_date_idx ON congress.bound_congressional_record (update_date);

-- congressional-record
CREATE TABLE congress.congressional_record (
    id                           bigint NOT NULL,
    congress                     bigint,
    volume                       bigint,
    issue                        text,
    session                      bigint,
    publish_date                 date,
    data                         jsonb       NOT NULL,
    content_hash                 bytea       NOT NULL,
    first_seen_at                timestamptz NOT NULL DEFAULT now(),
    last_seen_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

-- Indexes for what people ask of the data (see the header).
CREATE INDEX bill_latest_action_date_idx ON congress.bill (latest_action_date);
CREATE INDEX bill_introduced_date_idx ON congress.bill (introduced_date);
CREATE INDEX daily_congressional_record_congress_idx ON congress.daily_congressional_record (congress);
CREATE INDEX bound_congressional_record_congress_idx ON congress.bound_congressional_record (congress);
CREATE INDEX congressional_record_congress_idx ON congress.congressional_record (congress);
CREATE INDEX member_data_idx ON congress.member USING gin (data jsonb_path_ops);
CREATE INDEX committee_data_idx ON congress.committee USING gin (data jsonb_path_ops);
CREATE INDEX law_data_idx ON congress.law USING gin (data jsonb_path_ops);
CREATE INDEX nomination_data_idx ON congress.nomination USING gin (data jsonb_path_ops);
CREATE INDEX congress_data_idx ON congress.congress USING gin (data jsonb_path_ops);

-- The ingest's bookkeeping.

-- One row per endpoint walk (one frozen window of one endpoint): what it
-- cost and found. Updated as the walk goes, final when status is
-- completed or failed.
CREATE TABLE ops.ingest_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    walk_id        text        NOT NULL UNIQUE,
    workflow_id    text        NOT NULL,
    run_id         text        NOT NULL,
    endpoint       text        NOT NULL,
    mode           text        NOT NULL DEFAULT 'full',
    congresses     int[]       NOT NULL DEFAULT '{}',
    window_from    timestamptz,
    window_to      timestamptz NOT NULL,
    status         text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
    pages          int         NOT NULL DEFAULT 0,
    items          bigint      NOT NULL DEFAULT 0,
    inserted       bigint      NOT NULL DEFAULT 0,
    updated        bigint      NOT NULL DEFAULT 0,
    unchanged      bigint      NOT NULL DEFAULT 0,
    rejected       bigint      NOT NULL DEFAULT 0,
    requests       int         NOT NULL DEFAULT 0,
    min_requests   int         NOT NULL DEFAULT 0,
    retries        int         NOT NULL DEFAULT 0,
    rate_limited   int         NOT NULL DEFAULT 0,
    -- count: what the lists' first pages reported; confirmed: the distinct
    -- items the walk confirmed present; gap: what it could not find.
    count_reported bigint      NOT NULL DEFAULT 0,
    confirmed      bigint      NOT NULL DEFAULT 0,
    gap            bigint      NOT NULL DEFAULT 0,
    error          text        NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE INDEX ingest_runs_endpoint_idx ON ops.ingest_runs (endpoint, started_at DESC);

-- The cursor of each walk, written in the same transaction as the page it
-- follows: a retried attempt resumes from it, so a killed worker loses at
-- most the page in flight.
CREATE TABLE ops.ingest_cursors (
    walk_id    text        PRIMARY KEY,
    endpoint   text        NOT NULL,
    seq        int         NOT NULL,
    cursor     jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The keys an offset walk has seen, per walk and scope (one list or
-- window), to compare with the count. Scratch data, dropped when the walk
-- ends; unlogged because losing it only costs a re-walk.
CREATE UNLOGGED TABLE ops.ingest_seen (
    walk_id text NOT NULL,
    scope   int  NOT NULL,
    key     text NOT NULL,
    PRIMARY KEY (walk_id, scope, key)
);
