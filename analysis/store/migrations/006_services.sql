-- Desistance study database, schema version 6: who can help after release, and where.
--
-- Four optional parts of a dataset (analysis.contract.PROVIDERS, SERVICES, REFERRALS and
-- the region boundaries file):
--   * providers: the organisations serving people after release. Only an organisation's
--     public contact details are stored; names of staff are refused at import.
--   * services: what a provider offers, where, to whom and how many a year.
--   * referrals: a person sent to a service, and how far they got. person_id is
--     pseudonymized at import with the key of releases.
--   * region_boundaries: the country's own region outlines (regions.geojson), used only
--     to draw a map; nothing is ever downloaded.
-- Lists (regions, languages) are stored as VARCHAR[]: the file writes them separated by
-- ';', and the region word 'all' is stored as the list ['all'] (every region).

CREATE TABLE providers (
    provider_id VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,            -- the organisation's name, never a person's
    kind        VARCHAR NOT NULL,            -- government | ngo | international | private
    regions     VARCHAR[] NOT NULL,          -- release_region values served, or ['all']
    phone       VARCHAR,                     -- the organisation's public contact details
    email       VARCHAR,
    address     VARCHAR,
    website     VARCHAR,
    batch_id    VARCHAR NOT NULL
);

CREATE TABLE services (
    service_id        VARCHAR PRIMARY KEY,
    provider_id       VARCHAR NOT NULL,      -- a provider_id of providers
    service_type      VARCHAR NOT NULL,      -- analysis.contract.SERVICE_TYPES
    name              VARCHAR,               -- the service's own name, if it has one
    regions           VARCHAR[] NOT NULL,    -- release_region values, or ['all']
    sex_served        VARCHAR NOT NULL,      -- women | men | both
    languages         VARCHAR[],             -- e.g. ['ar', 'fr']
    capacity_per_year INTEGER,               -- people a year; empty = unknown
    valid_from        DATE,                  -- empty = since before the data
    valid_to          DATE,                  -- empty = still open
    batch_id          VARCHAR NOT NULL
);

CREATE TABLE referrals (
    person_id          VARCHAR NOT NULL,     -- pseudonym (key of releases)
    service_id         VARCHAR NOT NULL,     -- a service_id of services
    referral_date      DATE NOT NULL,
    status             VARCHAR NOT NULL,     -- referred | attended | completed | declined | not_available
    release_id         VARCHAR,              -- the release it follows, if known
    first_contact_date DATE,                 -- first day the person attended, if they did
    batch_id           VARCHAR NOT NULL,
    PRIMARY KEY (person_id, service_id, referral_date)
);

CREATE TABLE region_boundaries (
    region   VARCHAR PRIMARY KEY,            -- a release_region value
    geometry VARCHAR NOT NULL,               -- GeoJSON Polygon or MultiPolygon, lon/lat
    batch_id VARCHAR NOT NULL
);
