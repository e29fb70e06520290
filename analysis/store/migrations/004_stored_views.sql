-- Desistance study database, schema version 4: results of slow dashboard views, stored.
--
-- On a national database the Programmes page fits two Cox models on millions of
-- counting-process rows and the Impact page matches and weights a cohort: tens of
-- seconds the first time a page opens. The importer computes those pages' default views
-- once, after the data are written and before the new file is swapped in
-- (analysis.views.stored), and readers use a stored result only while it still
-- describes this database and this code: `data_version` is the batch_id of the latest
-- import, `code_version` a digest of the analysis package. Anything else is computed
-- as before. Results are JSON (analysis.store.codec), never pickles: the file travels.

CREATE TABLE stored_views (
    view         VARCHAR NOT NULL,  -- 'module:function' in analysis.views
    request      VARCHAR NOT NULL,  -- canonical JSON of the filters and options
    data_version VARCHAR NOT NULL,  -- import_log.batch_id of the import it describes
    code_version VARCHAR NOT NULL,  -- analysis.views.stored.code_version()
    result       VARCHAR NOT NULL,  -- analysis.store.codec.encode(view result)
    seconds      DOUBLE NOT NULL,   -- how long computing it took
    computed_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (view, request)
);
