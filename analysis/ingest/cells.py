"""Reading numbers and dates out of a block of text cells, in Arrow's compute kernels.

The checks of :mod:`analysis.ingest.checks` turn every cell of a national file into a
number or a date. pandas' ``to_numeric`` makes a Python object per cell (about 2.5 s
per million cells), and ``to_datetime`` after a regular expression about 1 s. Arrow's
casts read the same cells in a few hundredths of a second. The answers are pandas'
(hypothesis compares them, in ``tests/ingest/test_cells.py``):

* a cell is a number when ``pd.to_numeric`` reads it as one (Arrow refuses a block with
  any cell it cannot read; pandas then says which cells are numbers). Its value is the
  nearest double, as Python's ``float()`` gives it: pandas' own reader can be one unit
  in the last place off for a number written with 17 or more digits
  (``70000.000001000001``), so such a number may be stored 1e-16 of itself apart from
  what earlier versions stored (a re-import then counts its row as updated, once);
* a date is a cell written ``YYYY-MM-DD`` that names a real day: Arrow's ``strptime``
  is lenient (``2021-02-30`` becomes 2 March, ``2021-1-05`` is read), so a date counts
  only when the cell has that shape and the day and month read are those written.

Both take the cells already stripped and in NFC (:mod:`analysis.ingest.values`); empty
cells are missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_ISO_DATE = "%Y-%m-%d"
_ISO_SHAPE = r"^\d{4}-\d{2}-\d{2}$"  # RE2: ASCII digits only


def _arrow_text(cells: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The cells as Arrow text (no copy for Arrow-backed text; missing: null)."""
    text = pa.array(cells, from_pandas=True)
    if not pa.types.is_string(text.type) and not pa.types.is_large_string(text.type):
        text = text.cast(pa.large_string())
    return text


def numbers_of(cells: pd.Series) -> pd.Series:
    """The cells read as numbers (float64; NaN where empty or not a number): the cells
    ``pd.to_numeric(cells.where(cells != ""), errors="coerce")`` reads, each to the
    nearest double.

    ``inf`` and ``nan`` are read as they are written; the callers refuse them.

    Examples
    --------
    >>> numbers_of(pd.Series(["3", "", "2.5e1", "-0"])).tolist()
    [3.0, nan, 25.0, 0.0]
    >>> numbers_of(pd.Series(["3", "three"])).tolist()
    [3.0, nan]
    """
    text = _arrow_text(cells)
    values = _arrow_numbers(pc.if_else(pc.equal(text, ""), None, text))
    if values is None:
        # A cell Arrow cannot read: pandas says which cells are numbers, and Arrow reads
        # those, so that a cell's value never depends on the cells beside it.
        values = pd.to_numeric(cells.where(cells != ""), errors="coerce").to_numpy(
            dtype="float64", copy=True)
        readable = ~np.isnan(values)
        exact = _arrow_numbers(pa.array(cells.to_numpy(dtype=object)[readable], pa.string()))
        if exact is not None:
            values[readable] = exact
    return pd.Series(values, index=cells.index, dtype="float64")


def _arrow_numbers(text: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Arrow's reading of every cell (correctly rounded), or None if it refuses one."""
    try:
        numbers = pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # pandas reads "-0" as the integer 0: adding 0.0 turns Arrow's -0.0 into 0.0.
    return numbers.to_numpy(zero_copy_only=False).astype("float64", copy=False) + 0.0


def iso_dates_of(cells: pd.Series) -> pd.Series:
    """The cells read as dates (``datetime64[us]``; NaT where empty, not written
    ``YYYY-MM-DD`` or not a real day).

    Examples
    --------
    >>> [str(d.date()) if pd.notna(d) else None for d in
    ...  iso_dates_of(pd.Series(["2021-03-04", "2021-02-30", "2021-3-04", ""]))]
    ['2021-03-04', None, None, None]
    """
    text = _arrow_text(cells)
    text = pc.if_else(pc.match_substring_regex(text, _ISO_SHAPE), text,
                      pa.scalar(None, text.type))
    read = pc.strptime(text, format=_ISO_DATE, unit="us", error_is_null=True)
    # strptime moves a day past the month's end into the next month (and month 0 into
    # the year before): the day it read must be the day written, and so the month.
    # (Writing the date back with strftime would say the same, ten times slower.)
    exact = pc.and_(
        pc.equal(pc.day(read), pc.cast(pc.utf8_slice_codeunits(text, 8, 10), pa.int64())),
        pc.equal(pc.month(read), pc.cast(pc.utf8_slice_codeunits(text, 5, 7), pa.int64())))
    dates = pc.if_else(pc.fill_null(exact, False), read, pa.scalar(None, read.type))
    values = dates.to_numpy(zero_copy_only=False).astype("datetime64[us]", copy=False)
    return pd.Series(values, index=cells.index)


def control_bytes_possible(cells: pd.Series, *, allow_line_breaks: bool) -> bool:
    """Whether any cell may hold a control character (False: certainly none).

    One pass over the cells' UTF-8 bytes: control characters are the bytes 0x00-0x1F
    and 0x7F, and the C1 range U+0080-U+009F is written 0xC2 0x80-0x9F (no other
    character's encoding holds those bytes). A True answer is settled cell by cell.

    Examples
    --------
    >>> control_bytes_possible(pd.Series(["North", "Café £5"]), allow_line_breaks=False)
    False
    >>> control_bytes_possible(pd.Series(["a\\tb"]), allow_line_breaks=True)
    False
    >>> control_bytes_possible(pd.Series(["a\\x85b"]), allow_line_breaks=True)
    True
    """
    text = _arrow_text(cells)
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    return any(_control_bytes_in(chunk, allow_line_breaks) for chunk in chunks)


def _control_bytes_in(text: pa.Array, allow_line_breaks: bool) -> bool:
    _validity, offsets, data = text.buffers()
    if data is None or data.size == 0 or len(text) == 0:
        return False
    # only the bytes of these cells: an array sliced from a longer one shares its buffer
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[[text.offset, text.offset + len(text)]]
    values = np.frombuffer(data, dtype=np.uint8)[int(bounds[0]):int(bounds[1])]
    counts = np.bincount(values, minlength=256)
    control = counts[:0x20].copy()
    if allow_line_breaks:
        control[[0x09, 0x0A, 0x0D]] = 0
    if control.any() or counts[0x7F]:
        return True
    if not counts[0xC2]:
        return False
    lead = np.flatnonzero(values[:-1] == 0xC2)
    follower = values[lead + 1]
    return bool(((follower >= 0x80) & (follower <= 0x9F)).any())
