"""Reading one contract table from CSV, Parquet or XLSX as blocks of text cells.

Every cell comes back as a stripped string ("" for empty), so that validation
treats all three formats alike and can quote the user's value back exactly.
:func:`open_table_file` gives the header at once and the rows block by block
(:class:`TableStream`), so that a national file is never held whole; problems that
make the whole file unusable are returned when it is opened, or raised as
:class:`UnreadableFile` when they show part-way through.

The documented limits (:data:`analysis.contract.LIMITS`) are checked before the
expensive work: the file size from the directory entry, the number of columns from
the header line (CSV) or the schema (Parquet), and an XLSX workbook's uncompressed
size and sheet rows from its zip archive, before any XML is parsed.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.contract import (
    FILE_SUFFIXES,
    MAX_CELL_CHARACTERS,
    MAX_COLUMNS,
    MAX_FILE_MB,
    MAX_ROWS,
    TABLE_ORDER,
)
from analysis.ingest.problems import Problem

_MB = 1_000_000


@dataclass(frozen=True)
class TableFile:
    """A table as read from its file: header, text cells and each row's line number."""

    table: str
    path: Path
    sha256: str
    header: tuple[str, ...]
    cells: pd.DataFrame  # one column per header entry, all strings
    lines: np.ndarray  # line number (as a spreadsheet shows it) of each data row

    @property
    def name(self) -> str:
        return self.path.name


def find_table_files(dataset_dir: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """Map each contract table to the files that could hold it; also list ignored files."""
    found: dict[str, list[Path]] = {t: [] for t in TABLE_ORDER}
    ignored: list[Path] = []
    for path in sorted(dataset_dir.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if suffix in FILE_SUFFIXES and stem in found:
            found[stem].append(path)
        else:
            ignored.append(path)
    return found, ignored


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ReadAgainWithPandas(Exception):
    """Arrow's CSV reader met an irregular row after earlier blocks were used: read again."""


class UnreadableFile(Exception):
    """The file turned out unreadable part-way through; ``problem`` says why."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


#: Rows per block handed to validation (pandas' parser, Parquet batches); Arrow's CSV
#: reader cuts blocks by bytes (:data:`_ARROW_BLOCK_BYTES`).
BLOCK_ROWS = 500_000
_ARROW_BLOCK_BYTES = 32 << 20


@dataclass
class TableStream:
    """An opened table file: its header now, its stripped text cells block by block.

    Only one block of cells is held at a time; :meth:`line_numbers` and
    :meth:`cell_length_problem` are known once every block has been read.
    """

    table: str
    path: Path
    header: tuple[str, ...]
    _blocks: Iterator[pd.DataFrame]
    _lines: Callable[[int], np.ndarray]
    #: column position -> (first row whose cell is over the limit, its length)
    _too_long: dict[int, tuple[int, int]] = field(default_factory=dict)
    rows: int = 0

    @property
    def name(self) -> str:
        return self.path.name

    def blocks(self) -> Iterator[pd.DataFrame]:
        """Blocks of cells (columns 0..n-1, index from 0); raises :class:`UnreadableFile`
        or :class:`ReadAgainWithPandas` when the file proves unreadable part-way."""
        limit = MAX_CELL_CHARACTERS.current()
        for block in self._blocks:
            for position in range(block.shape[1]):
                if position in self._too_long:
                    continue
                lengths = block[position].str.len().to_numpy()
                if len(lengths) and int(lengths.max()) > limit:
                    row = int(np.argmax(lengths > limit))
                    self._too_long[position] = (self.rows + row, int(lengths[row]))
            self.rows += len(block)
            yield block

    @property
    def has_long_cell(self) -> bool:
        """A cell over the length limit was seen: the file will be refused as a whole."""
        return bool(self._too_long)

    def line_numbers(self) -> np.ndarray:
        """Line of each data row (after every block has been read)."""
        return self._lines(self.rows)

    def cell_length_problem(self, lines: np.ndarray) -> Problem | None:
        """The over-long cell of the leftmost column (its first row), as before streaming."""
        if not self._too_long:
            return None
        position = min(self._too_long)
        row, length = self._too_long[position]
        return over_limit(
            self.path, MAX_CELL_CHARACTERS, length,
            f"line {int(lines[row])}, column '{self.header[position]}' holds a cell that is "
            "too long",
        )


def open_table_file(table: str, path: Path, *, arrow: bool = True) -> TableStream | Problem:
    """Open ``path`` as the contract table ``table``; a :class:`Problem` if it cannot be.

    The limits on the file's size, columns and rows are checked here, before any row is
    parsed. ``arrow=False`` reads a CSV file with pandas' parser (see
    :class:`ReadAgainWithPandas`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = f.write_text("person_id,event_date,event_type\\nP1,2021-01-01,rearrest\\n")
    >>> stream = open_table_file("events", f)
    >>> stream.header, [len(block) for block in stream.blocks()], stream.line_numbers().tolist()
    (('person_id', 'event_date', 'event_type'), [1], [2])
    """
    from analysis.ingest import typed_files  # it reads this module's limits and helpers

    suffix = path.suffix.lower()
    outside = link_outside_folder(path)
    if outside is not None:
        return outside
    try:
        size = path.stat().st_size
        if size == 0:
            return Problem("empty_file", path.name, "the file is empty (0 bytes)")
        if size > MAX_FILE_MB.current() * _MB:
            return over_limit(path, MAX_FILE_MB, -(-size // _MB), "the file is too large")
        if suffix == ".csv":
            result = _open_csv(path, arrow=arrow)
        elif suffix == ".parquet":
            result = typed_files.open_parquet(path)
        else:
            result = typed_files.read_xlsx(path)
    except OSError as exc:
        return Problem("unreadable_file", path.name, f"cannot read the file: {exc.strerror}")
    if isinstance(result, Problem):
        return result
    header, blocks, lines = result
    if not header:
        return Problem("empty_file", path.name, "the file has no header row")
    too_wide = check_column_count(path, len(header))
    if too_wide is not None:
        return too_wide
    return TableStream(table, path, header, blocks, lines)


def read_table_file(table: str, path: Path) -> TableFile | Problem:
    """Read ``path`` whole as the contract table ``table`` (small files; tests).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "programs.csv"
    >>> _ = f.write_text("program_id,name\\nP1, Job club \\n")
    >>> read_table_file("programs", f).cells.values.tolist()
    [['P1', 'Job club']]
    """
    for arrow in (True, False):
        stream = open_table_file(table, path, arrow=arrow)
        if isinstance(stream, Problem):
            return stream
        try:
            parts = list(stream.blocks())
        except ReadAgainWithPandas:
            continue
        except UnreadableFile as exc:
            return exc.problem
        lines = stream.line_numbers()
        too_long = stream.cell_length_problem(lines)
        if too_long is not None:
            return too_long
        width = len(stream.header)
        cells = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=range(width))
        return TableFile(table, path, sha256_of(path), stream.header, cells, lines)
    raise AssertionError("pandas' reading never asks to read again")


def over_limit(path: Path, limit, found: int, what: str, *, counted_to_limit=False) -> Problem:
    return Problem(
        "over_limit",
        path.name,
        f"{what}: {limit.refusal(found, counted_to_limit=counted_to_limit)}",
        expected=f"at most {limit.current():,} {limit.unit} ({limit.name})",
    )


def link_outside_folder(path: Path) -> Problem | None:
    """A symbolic link (or a file under a linked name) that leads out of the dataset folder.

    Only files inside the folder are read: a link could otherwise make an import read
    any file the user can read, and record it under a harmless name.
    """
    folder = path.parent.resolve()
    target = path.resolve()
    if target.parent == folder or folder in target.parents:
        return None
    return Problem(
        "outside_link",
        path.name,
        f"this is a link to {target}, outside the dataset folder {folder}; links out of the "
        "folder are not followed",
        expected="the file itself inside the dataset folder (copy it in instead of linking)",
    )


def check_column_count(path: Path, columns: int) -> Problem | None:
    if columns <= MAX_COLUMNS.current():
        return None
    return over_limit(path, MAX_COLUMNS, columns, "the file has too many columns")


def _decode(path: Path) -> str | Problem:
    raw = path.read_bytes()
    if _looks_like_utf16(raw[:4096]):
        # Excel's "Unicode Text" and some database exports write UTF-16.
        return Problem(
            "wrong_encoding",
            path.name,
            "the file is UTF-16 text, not UTF-8 (save the file as 'CSV UTF-8')",
            line=1,
            expected="UTF-8 text",
        )
    if _looks_binary(raw[:4096]):
        return Problem(
            "unreadable_file",
            path.name,
            "this is a binary file, not a CSV table",
            expected="a text file with one header line and comma-separated values",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Problem(
            "wrong_encoding",
            path.name,
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8 (save the file as 'CSV UTF-8')",
            line=line,
            expected="UTF-8 text",
        )
    return text


_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])


def _looks_binary(head: bytes) -> bool:
    """A zero byte among many control bytes: a spreadsheet, archive or image saved as .csv.

    A few stray control characters in text are left for the validator, which names the
    line and column of each.
    """
    if b"\x00" not in head:
        return False
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    return controls > max(4, len(head) // 100)


def _looks_like_utf16(head: bytes) -> bool:
    """A UTF-16 byte-order mark, or ASCII text with a zero byte beside every character."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    pairs = head[: len(head) // 2 * 2]
    if len(pairs) < 8:
        return False
    even, odd = pairs[0::2], pairs[1::2]
    return even.count(0) == len(even) or odd.count(0) == len(odd)


def _sniff_delimiter(first_line: str) -> str:
    # Spreadsheets in French, Serbian or Russian locales save CSV with ';'.
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


@dataclass(frozen=True)
class _TextFacts:
    """What one streaming pass over a CSV file learns, without holding the file."""

    first_line: str
    newlines: int
    ends_with_newline: bool
    #: a carriage return not followed by a line feed (old Mac line ends, or stray)
    lone_carriage_return: bool
    #: the file holds a double quote somewhere (quoted cells, or a stray one)
    has_quotes: bool


def _scan_text(path: Path) -> _TextFacts | Problem:
    """Check that ``path`` is UTF-8 text, reading it in blocks (memory does not grow with it).

    A file that is not UTF-8 is read whole once more by :func:`_decode`, which names the
    line of the first bad byte.
    """
    with path.open("rb") as handle:
        head = handle.read(4096)
        if _looks_like_utf16(head) or _looks_binary(head):
            return _decode(path)
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        first_line = bytearray()
        newlines, blank, last, block, lone_cr, quotes = 0, True, b"", head, False, False
        try:
            while block:
                text = decoder.decode(block)
                if blank and text.strip():
                    blank = False
                if newlines == 0:
                    first_line += block.split(b"\n", 1)[0]
                newlines += block.count(b"\n")
                # (a CR ending one block before an LF starting the next counts as lone:
                # that only sends the file to the slower parser)
                lone_cr = lone_cr or block.count(b"\r") != block.count(b"\r\n")
                quotes = quotes or b'"' in block
                last = block[-1:]
                block = handle.read(1 << 20)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _decode(path)
    if blank:
        return Problem("empty_file", path.name, "the file holds only blank space")
    return _TextFacts(
        first_line=bytes(first_line).decode("utf-8-sig"),
        newlines=newlines,
        ends_with_newline=last == b"\n",
        lone_carriage_return=lone_cr,
        has_quotes=quotes,
    )


def _open_csv(path: Path, *, arrow: bool = True):
    facts = _scan_text(path)
    if isinstance(facts, Problem):
        return facts
    first_line = facts.first_line
    delimiter = _sniff_delimiter(first_line)
    # Checked before the whole file is parsed: a file of 20,000 columns costs minutes.
    try:
        columns = len(next(csv.reader(io.StringIO(first_line, newline=""), delimiter=delimiter)))
    except (csv.Error, StopIteration):
        columns = first_line.count(delimiter) + 1  # pandas will say what is wrong with it
    too_wide = check_column_count(path, columns)
    if too_wide is not None:
        return too_wide
    # every line but the header could be a row (quoted line breaks make it fewer)
    lines_after_header = facts.newlines - (1 if facts.ends_with_newline else 0)
    if lines_after_header > MAX_ROWS.current():
        return over_limit(path, MAX_ROWS, lines_after_header, "the file has too many rows")
    # Arrow is fast and light, but reads quotes and lone CRs unlike pandas in corner cases
    # (a quote left open at the end of the file...): such files keep pandas' reading.
    plain = arrow and not (facts.lone_carriage_return or facts.has_quotes)
    first = None
    if plain:
        blocks = _arrow_blocks(path, delimiter, columns)
        try:
            first = next(blocks, None)
        except ReadAgainWithPandas:
            first = None
    if first is None:
        blocks = _pandas_blocks(path, delimiter)
        try:
            first = next(blocks, None)
        except UnreadableFile as exc:
            return exc.problem
        if first is None:
            return Problem("empty_file", path.name, "the file has no header row")
    header = tuple(str(v) for v in first.iloc[0].tolist())
    body = first.iloc[1:].reset_index(drop=True)
    del first

    def stripped():
        yield _strip(body)
        for block in blocks:
            yield _strip(block)

    return header, stripped(), lambda rows: _line_numbers(path, facts, delimiter, rows)


_TEXT = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def _pandas_blocks(path: Path, delimiter: str) -> Iterator[pd.DataFrame]:
    """Every cell as text, parsed by pandas :data:`BLOCK_ROWS` rows at a time.

    Its parser makes a Python string per cell, so a whole national file at once would
    take gigabytes that the text columns do not need. A file whose rows do not line up
    raises :class:`UnreadableFile` (at the block where pandas finds it).
    """
    def unreadable(exc) -> UnreadableFile:
        return UnreadableFile(Problem(
            "unreadable_file",
            path.name,
            f"the rows do not line up into columns: {exc}".strip(),
            expected=f"every line to have as many '{delimiter}'-separated values as the header",
        ))

    try:
        chunks = pd.read_csv(
            path,
            encoding="utf-8-sig",
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            engine="c",
            chunksize=BLOCK_ROWS,
        )
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError as exc:
        raise unreadable(exc) from None
    with chunks:
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except pd.errors.EmptyDataError:
                return
            except pd.errors.ParserError as exc:
                raise unreadable(exc) from None
            chunk = chunk.astype(_TEXT)
            chunk.columns = range(chunk.shape[1])
            yield chunk


def _parse_with_pandas(path: Path, delimiter: str) -> pd.DataFrame:
    """Every cell as text, the header row included, parsed by pandas (whole file; tests)."""
    try:
        parts = list(_pandas_blocks(path, delimiter))
    except UnreadableFile as exc:
        raise pd.errors.ParserError(exc.problem.message) from None
    if not parts:
        raise pd.errors.EmptyDataError("No columns to parse from file")
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _arrow_blocks(path: Path, delimiter: str, columns: int) -> Iterator[pd.DataFrame]:
    """Every cell as text, parsed by Arrow's streaming CSV reader a block at a time.

    Arrow builds the text columns directly, where pandas' parser makes a Python string
    per cell first (gigabytes for ten million rows). A file Arrow refuses (a row with
    more or fewer cells than the header...) raises :class:`ReadAgainWithPandas`, to be
    parsed again by pandas, whose error message says which line is wrong.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(columns)]
    mapper = {pa.string(): _TEXT, pa.large_string(): _TEXT}.get
    errors = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, block_size=_ARROW_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except errors:
        raise ReadAgainWithPandas() from None
    with reader:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except errors:
                raise ReadAgainWithPandas() from None
            frame = batch.to_pandas(types_mapper=mapper)
            frame.columns = range(frame.shape[1])
            yield frame


def _parse_with_arrow(path: Path, delimiter: str, columns: int) -> pd.DataFrame | None:
    """Every cell as text, the header row included, parsed by Arrow (whole file; tests);
    None when Arrow finds the file irregular."""
    try:
        parts = list(_arrow_blocks(path, delimiter, columns))
    except ReadAgainWithPandas:
        return None
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _line_numbers(path: Path, facts: _TextFacts, delimiter: str, n_rows: int) -> np.ndarray:
    """Line of each data row; exact even when quoted cells hold line breaks or blank lines exist."""
    physical = facts.newlines + (0 if facts.ends_with_newline else 1)
    if physical == n_rows + 1:  # the common case: one line per row, no blank lines
        return np.arange(2, n_rows + 2)
    numbers = []
    # newline="" lets the csv module see a lone '\r' inside a cell instead of failing on it.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        start = 1
        try:
            for index, row in enumerate(reader):
                if index > 0 and any(cell.strip() for cell in row):
                    numbers.append(start)
                start = reader.line_num + 1
        except csv.Error:
            # pandas parsed the file, so only the line numbers are uncertain: count rows.
            return np.arange(2, n_rows + 2)
    numbers = numbers[:n_rows] + [numbers[-1] if numbers else 2] * (n_rows - len(numbers))
    return np.asarray(numbers, dtype=np.int64)


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells without surrounding white space; a column that has none is not copied."""
    columns = {}
    for position in frame.columns:
        column = frame[position].astype(str)
        stripped = column.str.strip()
        # keep the original buffers when nothing changed (a national file's columns are
        # hundreds of megabytes each)
        columns[position] = column if bool((stripped == column).all()) else stripped
    return pd.DataFrame(columns, index=frame.index)
