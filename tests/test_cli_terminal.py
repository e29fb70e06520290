"""The CLI never writes a control character from the data to the terminal (issue 12).

The importer refuses control characters now, but a database built before may hold
them: here one is written straight into a copy of the demo database.
"""

from __future__ import annotations

import json
import re
import shutil

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from analysis.cli import main
from analysis.cli.terminal import terminal_safe

HOSTILE = "North\x1b[2J\x1b]8;;http://other-host.invalid/\x07gate\r\x9b31m Prison"


@pytest.fixture(scope="module")
def old_db(demo_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("old") / "old.duckdb"
    shutil.copyfile(demo_db, db)
    con = duckdb.connect(str(db))
    for table in ("releases", "release_follow_up"):
        con.execute(f"UPDATE {table} SET facility = ? WHERE facility = 'Northgate Prison'",
                    [HOSTILE])
    con.close()
    return db


def _control(c: str) -> bool:
    return (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f


@given(st.text(st.characters(blacklist_characters="\\")))
def test_terminal_safe_escapes_every_control_character_and_nothing_else(text):
    shown = terminal_safe(text)
    assert not any(map(_control, shown))
    unescaped = re.sub(r"\\u00([0-9a-f]{2})", lambda m: chr(int(m[1], 16)), shown)
    assert unescaped == text


def test_km_by_facility_escapes_control_characters(old_db):
    # color=True: click keeps ANSI sequences, as it does on a terminal.
    result = CliRunner().invoke(main, ["km", "--db", str(old_db), "--by", "facility"], color=True)
    assert result.exit_code == 0, result.output
    assert "North\\u001b[2J\\u001b]8;;http://other-host.invalid/\\u0007gate\\u000d\\u009b31m" \
        in result.output
    assert not any(map(_control, result.output))


def test_json_output_stays_valid_and_equal(old_db):
    result = CliRunner().invoke(main, ["km", "--db", str(old_db), "--by", "facility", "--json"],
                                color=True)
    assert result.exit_code == 0, result.output
    assert "\x9b" not in result.output and "\x1b" not in result.output
    assert HOSTILE in [group["group"] for group in json.loads(result.output)["groups"]]


def test_a_closed_pipe_ends_the_command_quietly(demo_db):
    """``desist km | head -1``: the reader leaves early; no "internal error", exit 141."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "analysis.cli.run", "km", "--db", str(demo_db), "--by", "sex"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    error = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, error
    assert error == ""
