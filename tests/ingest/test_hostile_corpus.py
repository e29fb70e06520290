"""Every case of the hostile corpus (:mod:`tests.ingest.hostile_corpus`) through the real
``desist validate`` and ``desist import``: exit status 0 or 2 only, never a traceback,
the database byte-identical when refused, time and memory bounded.

Light cases run in this process (click's CliRunner); heavy ones in a subprocess with an
address-space limit and a timeout, so that a zip bomb or a 20,000-column file that is
handled badly fails its test instead of exhausting the machine. The time bounds are
deliberately generous (a loaded 2-core CI machine): they catch a hang or a quadratic
blow-up, not a slowdown; speed is measured by the scripts in ``benchmarks/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from tests.ingest import hostile_corpus
from tests.ingest.conftest import PERSONS, ROOT, file_digest, folder_state

CASES = hostile_corpus.cases()
LIGHT = [case for case in CASES if not case.heavy]
HEAVY = [case for case in CASES if case.heavy]

#: Per light case, both commands (about 0.5 s on an idle machine).
LIGHT_SECONDS = 30
#: Per heavy case, interpreter start-up and building the files included (about 4 s).
HEAVY_SECONDS = 90
#: Address space of a heavy case's process: DuckDB and pyarrow reserve much more than
#: they use, so this is a safety net for the machine, not the bound tested below.
HEAVY_ADDRESS_SPACE = 6 << 30
#: Peak resident memory of a heavy case's process (about 0.35 GB on the sample cases).
HEAVY_PEAK_BYTES = 1_500 << 20


def test_the_corpus_is_large_and_covers_every_expectation():
    assert len(CASES) >= 100
    assert {case.expect for case in CASES} == {hostile_corpus.REFUSED, hostile_corpus.ACCEPTED,
                                               hostile_corpus.WARNED, hostile_corpus.EITHER}
    assert 5 <= len(HEAVY) < len(CASES) // 4


def _check(case, outcome: dict, db, db_before: str, folder_before: dict) -> None:
    validate, imported = outcome["validate"], outcome["import"]
    for command, result in outcome.items():
        text = result["stdout"] + result["stderr"]
        assert result["escaped"] is None, (command, result["escaped"])
        assert result["exit_code"] in (0, 2), (command, result["exit_code"], text[-2000:])
        assert "Traceback" not in text, (command, text[-2000:])
        assert "internal error" not in text, (command, text[-2000:])
    # Both commands judge a dataset alike: validate must not pass what import refuses.
    assert validate["exit_code"] == imported["exit_code"], (validate, imported)
    code = imported["exit_code"]
    if case.expect == hostile_corpus.REFUSED:
        assert code == 2, (case.needs, imported["stdout"][-1500:])
    elif case.expect in (hostile_corpus.ACCEPTED, hostile_corpus.WARNED):
        assert code == 0, (case.needs, imported["stderr"][-1500:])
    if case.expect == hostile_corpus.WARNED:
        assert "warning" in validate["stderr"].lower(), (case.needs, validate["stderr"])
    if code == 2:
        assert file_digest(db) == db_before, "a refused import changed the database"
        assert folder_state(db.parent) == folder_before, "a refused import left files behind"
        if case.mentions:
            assert case.mentions in imported["stderr"].lower(), imported["stderr"][-1500:]
    else:
        raw = db.read_bytes()
        assert not any(person.encode() in raw for person in PERSONS), "a raw id was stored"


@pytest.mark.parametrize("case", LIGHT, ids=[case.name for case in LIGHT])
def test_light_case(case, tmp_path, existing_db):
    dataset = hostile_corpus.build(case, tmp_path / "dataset")
    db_before, folder_before = file_digest(existing_db), folder_state(existing_db.parent)
    started = time.monotonic()
    outcome = hostile_corpus.run_cli(dataset, existing_db)
    elapsed = time.monotonic() - started
    _check(case, outcome, existing_db, db_before, folder_before)
    assert elapsed < LIGHT_SECONDS, f"{case.name} took {elapsed:.1f} s"


def _run_heavy(case, db, scratch) -> tuple[dict, float, int]:
    """Run ``case`` in its own interpreter; return its outcome, seconds and peak RSS bytes."""
    out_path, err_path = scratch / "stdout.json", scratch / "stderr.txt"
    env = {**os.environ, "TMPDIR": str(scratch),
           hostile_corpus.ADDRESS_SPACE_VARIABLE: str(HEAVY_ADDRESS_SPACE)}
    env.pop("DESIST_DEBUG", None)
    started = time.monotonic()
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.ingest.hostile_corpus", case.name, str(db)],
            cwd=ROOT, env=env, stdout=out, stderr=err,
        )
        killer = threading.Timer(HEAVY_SECONDS, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    assert elapsed < HEAVY_SECONDS, f"{case.name} was still running after {HEAVY_SECONDS} s"
    assert process.returncode == 0, err_path.read_text()[-3000:]
    return json.loads(out_path.read_text()), elapsed, usage.ru_maxrss * 1024


@pytest.mark.parametrize("case", HEAVY, ids=[case.name for case in HEAVY])
def test_heavy_case(case, tmp_path, existing_db):
    db_before, folder_before = file_digest(existing_db), folder_state(existing_db.parent)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    outcome, _, peak = _run_heavy(case, existing_db, scratch)
    _check(case, outcome, existing_db, db_before, folder_before)
    assert peak < HEAVY_PEAK_BYTES, f"{case.name} peaked at {peak / 2**20:.0f} MB"
