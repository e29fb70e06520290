-- Desistance study database, schema version 3: survival-ready columns of release_follow_up.
--
-- KM curves for millions of releases spend their time on per-row date arithmetic and on
-- the POSITIONAL JOIN with `releases` (which DuckDB runs on one thread). These columns
-- hold the same facts as whole days since release_date, plus a copy of the release fields
-- that breakdowns and selections use, so that such a query reads this one table with
-- integer comparisons (analysis.survival.follow_up). Like the rest of the table they are
-- rebuilt by every import; the refresh record says which layout was written, and a table
-- refreshed before this migration is read through its dates only.

ALTER TABLE release_follow_up ADD COLUMN release_date DATE;              -- copies of
ALTER TABLE release_follow_up ADD COLUMN follow_up_end DATE;             --   `releases`
ALTER TABLE release_follow_up ADD COLUMN facility VARCHAR;               --   fields of the
ALTER TABLE release_follow_up ADD COLUMN release_region VARCHAR;         --   same row
ALTER TABLE release_follow_up ADD COLUMN sex VARCHAR;
ALTER TABLE release_follow_up ADD COLUMN offense_category VARCHAR;
ALTER TABLE release_follow_up ADD COLUMN release_type VARCHAR;
ALTER TABLE release_follow_up ADD COLUMN follow_up_end_reason VARCHAR;
ALTER TABLE release_follow_up ADD COLUMN age DOUBLE;                     -- age_at_release, else from birth_year
ALTER TABLE release_follow_up ADD COLUMN censor_day INTEGER;             -- days to the earlier of follow_up_end
                                                                         --   and the day before the next release (>= 0)
ALTER TABLE release_follow_up ADD COLUMN competing_end BOOLEAN;          -- that end is follow_up_end with reason
                                                                         --   death, deportation or emigration
ALTER TABLE release_follow_up ADD COLUMN first_rearrest_day INTEGER;     -- days from release_date to
ALTER TABLE release_follow_up ADD COLUMN first_reconviction_day INTEGER; --   the first_<type> date
ALTER TABLE release_follow_up ADD COLUMN first_reincarceration_day INTEGER;
ALTER TABLE release_follow_up ADD COLUMN first_violation_day INTEGER;
ALTER TABLE release_follow_up ADD COLUMN first_any_day INTEGER;          -- the earliest of the four
