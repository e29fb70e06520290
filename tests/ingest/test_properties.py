"""Property-based tests: malformed and random input never crashes validate or import,
never shows a traceback, and never writes part of an import."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

from analysis.cli import main
from analysis.contract import EVENTS, RELEASES
from analysis.errors import DesistError, InvalidDatasetError
from analysis.ingest import import_dataset, validate_dataset
from tests.ingest.conftest import TODAY, VALID, folder_state, write_dataset

# Deterministic: the same examples on every run and machine.
FAST = settings(
    derandomize=True,
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

SUFFIXES = st.sampled_from([".csv", ".parquet", ".xlsx"])
# Cells a clerk might type, plus awkward ones: quotes, separators, line breaks, unicode.
CELL = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "2020-01-01",
            "2020-02-30",
            "M",
            "f",
            "NaN",
            "inf",
            "-0",
            "1e309",
            "0x10",
            "1,5",
            "rearrest",
            "null",
            "None",
            '"',
            ";",
            "\n",
            "é",
        ]
    ),
    st.text(max_size=12),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(lambda d: d.isoformat()),
)


@pytest.fixture(scope="module")
def workspace():
    """A database holding the valid sample dataset, plus scratch space for examples."""
    root = Path(tempfile.mkdtemp(prefix="desist-props-"))
    write_dataset(root / "valid")
    import_dataset(root / "valid", root / "db" / "study.duckdb", today=TODAY)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _fresh_folder(root: Path) -> Path:
    folder = Path(tempfile.mkdtemp(dir=root))
    return folder


def _check_no_crash_no_partial_write(root: Path, folder: Path) -> None:
    """validate + import + the CLI on ``folder``: only user errors, never a partial write."""
    report = validate_dataset(folder, today=TODAY)
    for problem in report.problems:
        assert str(problem) and problem.file
    db = root / "db" / "study.duckdb"
    before = folder_state(db.parent)
    try:
        import_dataset(folder, db, today=TODAY)
    except InvalidDatasetError as exc:
        assert not report.ok or exc.report.problems
        assert folder_state(db.parent) == before
    except DesistError:
        assert folder_state(db.parent) == before
    else:
        assert report.ok or all(p.kind == "unknown_person" for p in report.problems), (
            report.summary_lines()
        )
        assert not list(db.parent.glob("*.tmp*"))
    result = CliRunner().invoke(main, ["validate", str(folder)], catch_exceptions=True)
    assert result.exit_code in (0, 2), (result.output, result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output
    shutil.rmtree(folder)


@FAST
@given(content=st.binary(max_size=2000), suffix=SUFFIXES)
def test_random_bytes_as_a_table_file(workspace, content, suffix):
    folder = _fresh_folder(workspace)
    (folder / f"releases{suffix}").write_bytes(content)
    _check_no_crash_no_partial_write(workspace, folder)


@FAST
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_random_text_as_releases_csv(workspace, text):
    folder = _fresh_folder(workspace)
    (folder / "releases.csv").write_text(text, encoding="utf-8")
    _check_no_crash_no_partial_write(workspace, folder)


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@FAST
@given(
    rows=st.lists(
        st.lists(CELL, min_size=len(RELEASES.columns), max_size=len(RELEASES.columns)),
        min_size=1,
        max_size=6,
    ),
    events=st.lists(
        st.lists(CELL, min_size=len(EVENTS.columns), max_size=len(EVENTS.columns)), max_size=4
    ),
)
def test_random_cells_under_valid_headers(workspace, rows, events):
    folder = _fresh_folder(workspace)
    (folder / "releases.csv").write_text(_csv(RELEASES.column_names, rows), encoding="utf-8")
    (folder / "events.csv").write_text(_csv(EVENTS.column_names, events), encoding="utf-8")
    _check_no_crash_no_partial_write(workspace, folder)


@FAST
@given(
    index=st.integers(0, len(VALID["releases"][1]) - 1),
    column=st.sampled_from(VALID["releases"][0]),
    value=CELL,
)
def test_one_random_cell_in_a_valid_dataset(workspace, index, column, value):
    header, rows = VALID["releases"]
    rows = [list(r) for r in rows]
    rows[index][header.index(column)] = value
    folder = write_dataset(_fresh_folder(workspace), releases=(header, rows))
    _check_no_crash_no_partial_write(workspace, folder)


@FAST
@given(
    header=st.lists(
        st.one_of(
            st.sampled_from(RELEASES.column_names + ("name", "Nom ", "")), st.text(max_size=10)
        ),
        min_size=1,
        max_size=8,
    ),
    suffix=SUFFIXES,
)
def test_random_headers(workspace, header, suffix):
    import pandas as pd

    folder = _fresh_folder(workspace)
    rows = [["x"] * len(header), ["2020-01-01"] * len(header)]
    path = folder / f"releases{suffix}"
    if suffix == ".csv":
        path.write_text(_csv(header, rows), encoding="utf-8")
    else:
        frame = pd.DataFrame(rows, columns=[str(h) for h in header])
        try:
            if suffix == ".parquet":
                frame.to_parquet(path)
            else:
                frame.to_excel(path, index=False)
        except (ValueError, TypeError, IllegalCharacterError):
            # The writer itself refuses (e.g. duplicate column names in Parquet).
            return
    _check_no_crash_no_partial_write(workspace, folder)


# The Arrow CSV parser (fast, no Python string per cell) must read every plain file it
# accepts exactly as pandas' parser reads the whole file; so must pandas reading it in
# blocks (files with quotes or lone CRs). Refusals must stay refusals.
_CSV_PIECES = st.lists(
    st.sampled_from(["a", "b", "é", "1", " ", ",", ";", '"', '""', "\n", "\r\n", "\r", "\t",
                     "x y", "\x00", "\ufeff", "\n\r", "\r\n\r"]),
    min_size=1,
    max_size=40,
)


@FAST
@given(pieces=_CSV_PIECES)
def test_block_and_arrow_parsing_read_every_csv_as_a_whole_file_read(pieces, monkeypatch):
    import pandas as pd

    from analysis.ingest import readers

    text = "h1,h2\n" + "".join(pieces)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_text(text, encoding="utf-8", newline="")
        try:
            whole = pd.read_csv(path, encoding="utf-8-sig", sep=",", header=None, dtype=str,
                                keep_default_na=False, na_filter=False, skip_blank_lines=True,
                                engine="c").astype(object).values.tolist()
        except pd.errors.ParserError:
            whole = "refused"
        monkeypatch.setattr(readers, "BLOCK_ROWS", 2)
        try:
            blocks = readers._parse_with_pandas(path, ",").astype(object).values.tolist()
        except pd.errors.ParserError:
            blocks = "refused"
        assert blocks == whole
        facts = readers._scan_text(path)
        if not isinstance(facts, readers._TextFacts):
            return  # refused before parsing (binary)
        if facts.lone_carriage_return or facts.has_quotes:
            return  # read by pandas alone
        arrow = readers._parse_with_arrow(path, ",", 2)
        if arrow is not None:
            assert arrow.astype(object).values.tolist() == whole


def _covariate_numbers_in_full(raw):
    """What every block computed before the probe: the whole block parsed."""
    import numpy as np
    import pandas as pd

    numbers = pd.to_numeric(raw.where(raw != ""), errors="coerce")
    numbers = numbers.where(np.isfinite(numbers.astype("float64")))
    return bool((numbers.notna() | (raw == "")).all()), numbers.astype("float64")


NUMBERISH = st.one_of(
    st.sampled_from(["", "1", "-2.5", "1e3", " 7 ", "inf", "nan", "1e999", "0x10", "1,5",
                     "theft", "١٢", "+3", "."]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
    st.text(max_size=4),
)


@settings(derandomize=True, max_examples=200, deadline=None, database=None)
@given(cells=st.lists(NUMBERISH, max_size=600))
def test_a_covariates_numbers_are_those_of_parsing_the_whole_block(cells):
    import pandas as pd

    from analysis.ingest.checks import _covariate_numbers

    raw = pd.Series(cells, dtype=str)
    all_numbers, numbers = _covariate_numbers(raw)
    expected_all, expected_numbers = _covariate_numbers_in_full(raw)
    assert all_numbers == expected_all
    if all_numbers:  # otherwise the covariate is text and its numbers are never read
        pd.testing.assert_series_equal(numbers, expected_numbers)


def test_a_text_cell_after_the_probed_cells_still_makes_the_covariate_text():
    import pandas as pd

    from analysis.ingest.checks import _NUMBER_PROBE_CELLS, _covariate_numbers

    late_text = pd.Series(["1.5"] * _NUMBER_PROBE_CELLS + ["", "theft", "2"], dtype=str)
    assert _covariate_numbers(late_text)[0] is False
    empty_probe = pd.Series([""] * _NUMBER_PROBE_CELLS + ["3", "4"], dtype=str)
    all_numbers, numbers = _covariate_numbers(empty_probe)
    assert all_numbers is True and numbers.iloc[-2:].tolist() == [3.0, 4.0]
