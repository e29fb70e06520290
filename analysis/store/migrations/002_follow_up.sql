-- Desistance study database, schema version 2: derived follow-up facts per release.
--
-- These facts change only when data are imported, yet finding them (the person's
-- neighbouring releases, the first event of each type after a release, the programmes
-- of the custody period) is the expensive part of every survival query. Every import
-- rebuilds this table inside its transaction (analysis.survival.follow_up.refresh_follow_up)
-- and records the refresh in metadata key 'follow_up_refreshed'; analyses read it only
-- while that record matches the tables, and otherwise compute the same facts on the fly.
--
-- One row per release, in the same row order as `releases`, so that analyses read both
-- with a POSITIONAL JOIN (no join on release_id); the refresh checks the alignment.

CREATE TABLE release_follow_up (
    release_id            VARCHAR NOT NULL,  -- the release of the same position in `releases`
    prev_release          DATE,              -- the person's latest strictly earlier release
    next_release          DATE,              -- the person's earliest strictly later release
    first_rearrest        DATE,              -- first event of each type strictly after
    first_reconviction    DATE,              --   release_date (not bounded by follow-up:
    first_reincarceration DATE,              --   follow-up rules are applied by the
    first_violation       DATE,              --   analyses)
    programs              VARCHAR[],         -- programmes of the custody period that ended
    programs_completed    VARCHAR[]          --   with this release (any / completed), sorted
);
