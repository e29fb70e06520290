-- Desistance study database, schema version 1.
-- Person identifiers are HMAC-SHA256 pseudonyms made at import (analysis.ingest.pseudonymize);
-- no raw identifier is ever stored.

CREATE TABLE metadata (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE import_log (
    batch_id      VARCHAR PRIMARY KEY,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    source_dir    VARCHAR NOT NULL,
    mode          VARCHAR NOT NULL,          -- all_or_nothing | skip_invalid
    rows_read     BIGINT NOT NULL,
    rows_inserted BIGINT NOT NULL,
    rows_updated  BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    summary_json  VARCHAR NOT NULL,
    tool_version  VARCHAR NOT NULL
);

CREATE TABLE import_files (
    batch_id       VARCHAR NOT NULL,
    table_name     VARCHAR NOT NULL,
    file_name      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    rows_read      BIGINT NOT NULL,
    rows_inserted  BIGINT NOT NULL,
    rows_updated   BIGINT NOT NULL,
    rows_unchanged BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    PRIMARY KEY (batch_id, table_name)
);

CREATE TABLE releases (
    release_id           VARCHAR PRIMARY KEY,
    person_id            VARCHAR NOT NULL,
    release_date         DATE NOT NULL,
    facility             VARCHAR NOT NULL,
    follow_up_end        DATE NOT NULL,
    release_region       VARCHAR,
    sex                  VARCHAR,
    birth_year           INTEGER,
    age_at_release       DOUBLE,
    offense_category     VARCHAR,
    sentence_months      DOUBLE,
    prior_convictions    INTEGER,
    release_type         VARCHAR,
    follow_up_end_reason VARCHAR NOT NULL DEFAULT 'data_cutoff',
    batch_id             VARCHAR NOT NULL
    -- Extra columns of the releases file are added here by the importer
    -- (ALTER TABLE ADD COLUMN) and listed in the covariates table.
);

CREATE TABLE covariates (
    name           VARCHAR PRIMARY KEY,
    kind           VARCHAR NOT NULL,         -- numeric | categorical
    first_batch_id VARCHAR NOT NULL
);

CREATE TABLE programs (
    program_id           VARCHAR PRIMARY KEY,
    name                 VARCHAR NOT NULL,
    category             VARCHAR NOT NULL,
    setting              VARCHAR NOT NULL,
    project              VARCHAR,
    funder               VARCHAR,
    cost_per_participant DOUBLE,
    currency             VARCHAR,
    batch_id             VARCHAR NOT NULL
);

CREATE TABLE participation (
    person_id  VARCHAR NOT NULL,
    program_id VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date   DATE,
    status     VARCHAR,
    hours      DOUBLE,
    release_id VARCHAR,
    batch_id   VARCHAR NOT NULL,
    PRIMARY KEY (person_id, program_id, start_date)
);

CREATE TABLE events (
    person_id        VARCHAR NOT NULL,
    event_date       DATE NOT NULL,
    event_type       VARCHAR NOT NULL,
    offense_category VARCHAR,
    batch_id         VARCHAR NOT NULL,
    PRIMARY KEY (person_id, event_date, event_type)
);
