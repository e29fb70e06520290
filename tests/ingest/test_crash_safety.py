"""A killed import leaves the database untouched; readers are never blocked; one import
at a time."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.errors import DesistError
from analysis.ingest import import_dataset
from tests.ingest.conftest import DESIST, ROOT, TODAY, file_digest, write_dataset

BIG_ROWS = 200_000


@pytest.fixture(scope="module")
def big_dataset(tmp_path_factory) -> Path:
    """200,000 valid releases, written with vectorized pandas."""
    folder = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(7)
    day = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2000, BIG_ROWS), unit="D")
    ids = np.arange(BIG_ROWS).astype(str)
    pd.DataFrame(
        {
            "release_id": np.char.add("BIG-R-", ids),
            "person_id": np.char.add("BIG-P-", ids),
            "release_date": day.strftime("%Y-%m-%d"),
            "facility": rng.choice(["North", "South"], BIG_ROWS),
            "follow_up_end": (day + pd.Timedelta(days=400)).strftime("%Y-%m-%d"),
            "sex": rng.choice(["F", "M"], BIG_ROWS),
            "risk_score": rng.uniform(0, 10, BIG_ROWS).round(2),
        }
    ).to_csv(folder / "releases.csv", index=False)
    return folder


@pytest.fixture
def live_db(existing_db) -> Path:
    """A database holding the small valid dataset."""
    return existing_db


def _start_import(dataset: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(DESIST), "import", str(dataset), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _wait_for_tmp(db: Path, process: subprocess.Popen, timeout: float = 60) -> Path:
    """Wait until the import has started writing its copy; return the temporary file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(db.parent.glob(f"{db.name}.import-*.tmp"))
        if found:
            return found[0]
        if process.poll() is not None:
            pytest.fail(f"the import ended before it started writing: {process.stderr.read()}")
        time.sleep(0.005)
    process.kill()
    pytest.fail("the import never started writing its temporary copy")


def _counts(con) -> tuple:
    return tuple(
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("releases", "events", "import_log")
    )


@pytest.mark.parametrize("delay", [0.0, 0.4], ids=["while-copying", "while-writing"])
def test_killed_import_leaves_the_database_byte_for_byte_unchanged(
    big_dataset, live_db, dataset, delay
):
    before = file_digest(live_db)
    process = _start_import(big_dataset, live_db)
    tmp = _wait_for_tmp(live_db, process)
    time.sleep(delay)
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert file_digest(live_db) == before
    assert tmp.exists()  # the leftover of the killed import
    con = duckdb.connect(str(live_db), read_only=True)
    assert _counts(con) == (4, 3, 1)
    con.close()

    report = import_dataset(dataset, live_db, today=TODAY)
    assert report.tables["releases"].unchanged == 4
    leftovers = [p.name for p in live_db.parent.iterdir() if ".import-" in p.name]
    assert leftovers == []


def test_reader_in_another_process_is_not_blocked_and_sees_a_consistent_state(tmp_path, live_db):
    # A dashboard left open: a read-only connection in another process.
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys
            from analysis.store import connect_readonly
            con = connect_readonly({str(live_db)!r})
            def show():
                print(con.execute("SELECT count(*) FROM releases").fetchone()[0],
                      con.execute("SELECT count(*) FROM import_log").fetchone()[0], flush=True)
            show()
            sys.stdin.readline()
            show()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert reader.stdout.readline().split() == ["4", "1"]
        header = "release_id,person_id,release_date,facility,follow_up_end\n"
        more = write_dataset(tmp_path / "more", tables={})
        (more / "releases.csv").write_text(
            header + "".join(f"N{i},NEW-{i},2020-01-01,North,2021-01-01\n" for i in range(10)),
            encoding="utf-8",
        )
        started = time.monotonic()
        done = subprocess.run(
            [str(DESIST), "import", str(more), "--db", str(live_db)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == "" and "releases" in done.stdout
        assert time.monotonic() - started < 30
        # (b) the open reader still sees the old, consistent state ...
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().split() == ["4", "1"]
        assert reader.wait(timeout=30) == 0, reader.stderr.read()
    finally:
        reader.kill()
        reader.wait()
    # (c) ... and a new connection sees the new one.
    con = duckdb.connect(str(live_db), read_only=True)
    assert _counts(con)[::2] == (14, 2)
    con.close()


def test_second_concurrent_import_is_refused(big_dataset, live_db, dataset):
    first = _start_import(big_dataset, live_db)
    try:
        _wait_for_tmp(live_db, first)
        with pytest.raises(DesistError, match="another import into .* is running"):
            import_dataset(dataset, live_db, today=TODAY)
        # The refused import did not disturb the running one (checked below) and
        # did not delete its temporary file.
        assert list(live_db.parent.glob(f"{live_db.name}.import-*.tmp")) or first.poll() is not None
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    con = duckdb.connect(str(live_db), read_only=True)
    assert _counts(con) == (4 + BIG_ROWS, 3, 2)
    con.close()
    # Once the first has finished, imports work again.
    import_dataset(dataset, live_db, today=TODAY)
