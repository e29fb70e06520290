"""Text cells that cannot run as spreadsheet formulas ("CSV/formula injection").

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be
run as a formula by Excel or LibreOffice. Used by the dashboard's downloads
(:mod:`analysis.views.tables`) and by the importer's rejects file
(:mod:`analysis.ingest.rejects`), so it lives below both layers.
"""

from __future__ import annotations

import pandas as pd

#: First characters that make a spreadsheet treat a text cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _neutralize_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot run as formulas.

    Examples
    --------
    >>> df = pd.DataFrame({"name": ["=1+1", "ok", "-x"], "value": [-1, 2, 3]})
    >>> neutralize_formulas(df)["name"].tolist()
    ["'=1+1", 'ok', "'-x"]
    >>> neutralize_formulas(df)["value"].tolist()
    [-1, 2, 3]
    """
    out = df.copy()
    out.columns = [_neutralize_text(str(c)) for c in out.columns]
    for column in range(out.shape[1]):
        series = out.iloc[:, column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out.isetitem(column, series.map(_neutralize_text).astype(object))
    return out
