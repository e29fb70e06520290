-- Desistance study database, schema version 5: releases expected after the data's cutoff.
--
-- The optional contract table `expected_releases` (analysis.contract.EXPECTED_RELEASES):
-- people now in custody and the day each is expected out, for forecasts of who will be
-- released where and when. person_id is pseudonymized at import with the same key as
-- releases.person_id, so a person released before joins their earlier releases. The
-- columns are those of `releases`, stored the same way; extra columns of the file are
-- added by the importer (ALTER TABLE ADD COLUMN, DOUBLE or VARCHAR) and are not listed
-- in `covariates`, which describes the columns of `releases`. The table exists, empty,
-- in every database migrated to this version.

CREATE TABLE expected_releases (
    person_id             VARCHAR NOT NULL,
    expected_release_date DATE NOT NULL,     -- any date: forecasts use those after as-of
    facility              VARCHAR NOT NULL,
    release_region        VARCHAR,
    sex                   VARCHAR,
    birth_year            INTEGER,
    age_at_release        DOUBLE,            -- age on the expected release date
    offense_category      VARCHAR,
    sentence_months       DOUBLE,
    prior_convictions     INTEGER,
    release_type          VARCHAR,
    batch_id              VARCHAR NOT NULL,
    PRIMARY KEY (person_id, expected_release_date)
);
