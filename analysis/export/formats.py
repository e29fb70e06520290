"""The three file formats of ``desist export``: Parquet, CSV and Stata ``.dta``.

Every format holds the same columns under the same portable names
(:mod:`analysis.export.names`) and the same values:

* **parquet** — written with pyarrow (already a dependency); dates as ``date32``,
  missing values as nulls. R reads it with ``arrow::read_parquet``, Python with
  ``pandas.read_parquet``.
* **csv** — UTF-8, comma-separated, a header line, dates ``YYYY-MM-DD``, a missing
  value as an empty cell, numbers with full precision. Cells are written as they are
  (no formula neutralising, which would change values): the file is for R, Stata or
  Python, not for a spreadsheet.
* **dta** — Stata 14+ format (version 118: UTF-8 text, so Arabic or Cyrillic values
  survive), read by Stata 14 or later and by R's ``haven::read_dta``. Dates are Stata
  daily dates (``%td``); each variable carries its dictionary meaning as its label
  (cut to Stata's 80 characters). Stata has no missing text value: a missing text
  cell is written as an empty string. Names longer than 32 characters are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

Format = Literal["parquet", "csv", "dta"]
#: The formats, as ``--format`` names them.
FORMATS: tuple[Format, ...] = ("parquet", "csv", "dta")
#: The ``.dta`` layout written: Stata 14+ (UTF-8), which haven::read_dta reads.
STATA_VERSION = 118
#: Stata's longest variable label, data label and fixed-width text value (bytes).
STATA_MAX_LABEL = 80
STATA_MAX_STR = 2045


def _dates(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]


def _texts(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns
            if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)]


def _label(text: str) -> str:
    return text if len(text) <= STATA_MAX_LABEL else text[:STATA_MAX_LABEL - 1] + "…"


def write_frame(frame: pd.DataFrame, path: Path, fmt: Format, *,
                labels: dict[str, str] | None = None, title: str = "") -> None:
    """Write ``frame`` (already under its portable names) to ``path`` as ``fmt``.

    Parameters
    ----------
    frame : DataFrame
        The rows; datetime columns are written as dates.
    path : Path
        The (temporary) file to write.
    fmt : {"parquet", "csv", "dta"}
    labels : dict, optional
        Column -> meaning, stored as Stata variable labels (``dta`` only).
    title : str
        Stata's data label (``dta`` only).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
    >>> frame = pd.DataFrame({"release_date": pd.to_datetime(["2020-01-31"]), "time": [12]})
    >>> write_frame(frame, out, "csv")
    >>> out.read_text()
    'release_date,time\\n2020-01-31,12\\n'
    """
    dates = _dates(frame)
    if fmt == "csv":
        frame.to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%d",
                     encoding="utf-8")
    elif fmt == "parquet":
        table = pa.Table.from_pandas(frame, preserve_index=False)
        for name in dates:
            position = table.schema.get_field_index(name)
            table = table.set_column(position, pa.field(name, pa.date32()),
                                     table.column(name).cast(pa.date32()))
        pq.write_table(table.replace_schema_metadata(None), path)
    elif fmt == "dta":
        out = frame.copy()
        long_texts = []
        for name in _texts(out):
            text = out[name].astype(object).where(out[name].notna(), "").astype(str)
            out[name] = text
            if len(text) and int(text.str.encode("utf-8").str.len().max()) > STATA_MAX_STR:
                long_texts.append(name)
        out.to_stata(path, write_index=False, version=STATA_VERSION,
                     convert_dates=dict.fromkeys(dates, "td"),
                     variable_labels={k: _label(v) for k, v in (labels or {}).items()
                                      if k in out.columns},
                     data_label=_label(title) or None, convert_strl=long_texts)
    else:
        raise ValueError(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
