-- Desistance study database, schema version 7: the person-level record tables keep no
-- PRIMARY KEY index.
--
-- releases, participation, events, expected_releases and referrals had a PRIMARY KEY.
-- DuckDB keeps such a key as an ART index, which every insert maintains and every
-- commit writes: at a million releases and a million events, 9 of the import's 47
-- seconds, and at ten million 2.5 GB of the 3.75 GB database file (docs/import.md).
-- Nothing reads through those indexes (the analyses scan and hash-join), and the
-- importer already guarantees the keys: it refuses (or, with --skip-invalid, rejects)
-- rows sharing a key within a file, adds only rows whose key is not stored yet, and
-- after writing checks that every key is unique (analysis.ingest.keys) before the new
-- file may replace the old. The keys themselves are listed in analysis.contract.
--
-- Each table is recreated with its rows in the same order (release_follow_up is
-- aligned with releases row by row), its columns (covariates and extra columns
-- included), its NOT NULL constraints and its defaults.

CREATE TABLE releases_v7 AS SELECT * FROM releases ORDER BY rowid;
DROP TABLE releases;
ALTER TABLE releases_v7 RENAME TO releases;
ALTER TABLE releases ALTER COLUMN release_id SET NOT NULL;
ALTER TABLE releases ALTER COLUMN person_id SET NOT NULL;
ALTER TABLE releases ALTER COLUMN release_date SET NOT NULL;
ALTER TABLE releases ALTER COLUMN facility SET NOT NULL;
ALTER TABLE releases ALTER COLUMN follow_up_end SET NOT NULL;
ALTER TABLE releases ALTER COLUMN follow_up_end_reason SET DEFAULT 'data_cutoff';
ALTER TABLE releases ALTER COLUMN follow_up_end_reason SET NOT NULL;
ALTER TABLE releases ALTER COLUMN batch_id SET NOT NULL;

CREATE TABLE expected_releases_v7 AS SELECT * FROM expected_releases ORDER BY rowid;
DROP TABLE expected_releases;
ALTER TABLE expected_releases_v7 RENAME TO expected_releases;
ALTER TABLE expected_releases ALTER COLUMN person_id SET NOT NULL;
ALTER TABLE expected_releases ALTER COLUMN expected_release_date SET NOT NULL;
ALTER TABLE expected_releases ALTER COLUMN facility SET NOT NULL;
ALTER TABLE expected_releases ALTER COLUMN batch_id SET NOT NULL;

CREATE TABLE participation_v7 (
    person_id  VARCHAR NOT NULL,
    program_id VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date   DATE,
    status     VARCHAR,
    hours      DOUBLE,
    release_id VARCHAR,
    batch_id   VARCHAR NOT NULL
);
INSERT INTO participation_v7 BY NAME SELECT * FROM participation ORDER BY rowid;
DROP TABLE participation;
ALTER TABLE participation_v7 RENAME TO participation;

CREATE TABLE events_v7 (
    person_id        VARCHAR NOT NULL,
    event_date       DATE NOT NULL,
    event_type       VARCHAR NOT NULL,
    offense_category VARCHAR,
    batch_id         VARCHAR NOT NULL
);
INSERT INTO events_v7 BY NAME SELECT * FROM events ORDER BY rowid;
DROP TABLE events;
ALTER TABLE events_v7 RENAME TO events;

CREATE TABLE referrals_v7 (
    person_id          VARCHAR NOT NULL,     -- pseudonym (key of releases)
    service_id         VARCHAR NOT NULL,     -- a service_id of services
    referral_date      DATE NOT NULL,
    status             VARCHAR NOT NULL,     -- referred | attended | completed | declined | not_available
    release_id         VARCHAR,              -- the release it follows, if known
    first_contact_date DATE,                 -- first day the person attended, if they did
    batch_id           VARCHAR NOT NULL
);
INSERT INTO referrals_v7 BY NAME SELECT * FROM referrals ORDER BY rowid;
DROP TABLE referrals;
ALTER TABLE referrals_v7 RENAME TO referrals;
