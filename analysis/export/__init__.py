"""Analysis-ready exports: the exact rows ``desist km`` and ``desist cox`` fit.

``desist export episodes|counting-process ... --format parquet|csv|dta --out FILE``
(docs/export.md) writes

* the rows (:mod:`analysis.export.rows`): episodes, one per release, as ``desist km``
  counts them, or the ``(start, stop]`` counting-process rows with programme exposures
  that ``desist cox`` fits;
* in one of three formats (:mod:`analysis.export.formats`) under column names R and
  Stata keep (:mod:`analysis.export.names`);
* with a data dictionary beside it, ``FILE.dictionary.md``
  (:mod:`analysis.export.dictionary`), holding the R and Stata lines that refit it
  (:mod:`analysis.export.refit_code`);
* atomically, never over the database or its key, nor over a file without ``--force``
  (:mod:`analysis.export.files`).

Example
-------
>>> import tempfile, pathlib
>>> from analysis.demo.build import build_demo
>>> from analysis.store import connect_readonly
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> db = folder / "demo.duckdb"
>>> _ = build_demo(db, releases=500)
>>> con = connect_readonly(db)
>>> rows = counting_process_rows(con, ["age_at_release", "sex"])
>>> result = write_export(con, rows, folder / "cox.csv", "csv", db=db,
...                       key=folder / "demo.duckdb.key")
>>> result.dictionary_file.name, result.rows == len(rows.frame)
('cox.csv.dictionary.md', True)
>>> con.close()
"""

from analysis.export.rows import KINDS, ExportRows, counting_process_rows, episode_rows
from analysis.export.writer import (
    ExportResult,
    check_export_paths,
    dictionary_path,
    format_of,
    write_export,
)

__all__ = [
    "KINDS",
    "ExportResult",
    "ExportRows",
    "check_export_paths",
    "counting_process_rows",
    "dictionary_path",
    "episode_rows",
    "format_of",
    "write_export",
]
