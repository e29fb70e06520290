"""The audit log: appends under a lock, 0600, and --verify names the first bad line."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest

from analysis.access.audit import GENESIS, entry_hash

ROOT = Path(__file__).resolve().parents[2]


def _filled(audit, n=5):
    for i in range(n):
        audit.append("page_view", f"user{i % 2}", page="overview", filters={"sex": "F", "i": i})
    return audit


def _lines(audit):
    return audit.path.read_text(encoding="utf-8").splitlines(keepends=True)


def _rewrite(audit, lines):
    audit.path.write_text("".join(lines), encoding="utf-8")


def test_entries_chain_and_verify(audit):
    _filled(audit)
    entries = audit.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == GENESIS
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:], strict=False))
    assert all(entry_hash(e) == e["hash"] for e in entries)
    check = audit.verify()
    assert (check.ok, check.entries, check.line, check.reason) == (
        True, 5, None, "5 entries, chain intact")


def test_the_file_is_owner_only_whatever_the_umask(audit, permissive_umask):
    audit.append("login", "ana")
    assert stat.S_IMODE(audit.path.stat().st_mode) == 0o600


def test_an_existing_file_is_made_owner_only(audit):
    audit.path.write_text("")
    audit.path.chmod(0o644)
    audit.append("login", "ana")
    assert stat.S_IMODE(audit.path.stat().st_mode) == 0o600


def test_an_edited_field_is_found(audit):
    lines = _lines(_filled(audit))
    lines[2] = lines[2].replace('"sex":"F"', '"sex":"M"')
    _rewrite(audit, lines)
    check = audit.verify()
    assert (check.ok, check.line, check.entries) == (False, 3, 2)
    assert "line 3: changed after it was written" in check.reason


def test_an_edit_with_its_hash_recomputed_breaks_the_next_line(audit):
    lines = _lines(_filled(audit))
    entry = json.loads(lines[1])
    entry["user"] = "someone-else"
    entry["hash"] = entry_hash(entry)
    lines[1] = json.dumps(entry) + "\n"
    _rewrite(audit, lines)
    check = audit.verify()
    assert (check.ok, check.line) == (False, 3)
    assert "inserted or moved" in check.reason


def test_a_deleted_line_is_found(audit):
    lines = _lines(_filled(audit))
    del lines[1]
    _rewrite(audit, lines)
    check = audit.verify()
    assert (check.ok, check.line) == (False, 2)
    assert "1 entry removed before it (expected entry 2, found 3)" in check.reason


def test_a_deleted_first_line_is_found(audit):
    _rewrite(audit, _lines(_filled(audit))[1:])
    assert audit.verify().line == 1 and "removed" in audit.verify().reason


def test_an_inserted_line_is_found(audit):
    lines = _lines(_filled(audit))
    forged = json.loads(lines[1])
    forged["details"] = {"page": "data"}
    forged["hash"] = entry_hash(forged)
    lines.insert(2, json.dumps(forged) + "\n")
    _rewrite(audit, lines)
    check = audit.verify()
    assert (check.ok, check.line) == (False, 3)
    assert "inserted or moved" in check.reason


def test_reordered_lines_are_found(audit):
    lines = _lines(_filled(audit))
    lines[1], lines[2] = lines[2], lines[1]
    _rewrite(audit, lines)
    check = audit.verify()
    assert (check.ok, check.line) == (False, 2)


def test_a_line_that_is_not_an_entry_is_found(audit):
    lines = _lines(_filled(audit))
    lines.insert(4, "hello\n")
    _rewrite(audit, lines)
    check = audit.verify()
    assert (check.ok, check.line) == (False, 5) and "not a valid audit entry" in check.reason


def test_truncating_the_tail_is_not_seen_by_verify_alone(audit):
    """The documented limit (docs/access.md): a shorter chain is still a chain."""
    _rewrite(audit, _lines(_filled(audit))[:3])
    assert audit.verify().ok and audit.verify().entries == 3


def test_a_missing_log_is_not_intact(audit):
    check = audit.verify()
    assert not check.ok and "no audit log" in check.reason


def test_appending_after_a_torn_line_keeps_the_damage_visible(audit):
    _filled(audit, 2)
    with audit.path.open("a") as log:
        log.write('{"seq": 3, "time": "2026-')  # a crash in the middle of a write
    entry = audit.append("logout", "ana")
    assert entry["seq"] == 3 and entry["prev"] == audit.entries()[1]["hash"]
    lines = _lines(audit)
    assert len(lines) == 4 and lines[-1].endswith("\n")
    assert audit.verify().line == 3
    assert [e["event"] for e in audit.entries()] == ["page_view", "page_view", "logout"]


def test_secrets_and_unknown_events_are_refused(audit):
    for details in ({"password": "x"}, {"password_hash": "x"}, {"person_id": "P1"}):
        with pytest.raises(ValueError, match="looks like a secret"):
            audit.append("login", "ana", **details)
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.append("coffee", "ana")
    assert not audit.path.exists()


def test_entries_filter_by_day_and_user(audit):
    _filled(audit, 4)
    lines = _lines(audit)
    old = json.loads(lines[0])
    assert len(audit.entries(user="user0")) == 2
    assert audit.entries(since=datetime(2000, 1, 1))[0] == old
    assert audit.entries(since=datetime(2999, 1, 1)) == []


def test_entry_format(audit):
    entry = audit.append("download", "ana", what="km_table", format="csv")
    line = json.loads(_lines(audit)[0])
    assert line == entry
    assert sorted(entry) == ["details", "event", "hash", "prev", "seq", "time", "user"]
    assert datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert entry["details"] == {"what": "km_table", "format": "csv"}


def test_concurrent_threads_keep_one_chain(audit):
    def write(n):
        for i in range(25):
            audit.append("page_view", f"t{n}", page="overview", i=i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = audit.verify()
    assert check.ok, check.reason
    assert check.entries == 150


WRITER = """
import sys
from analysis.access.audit import AuditLog
log = AuditLog(sys.argv[1], durable=False)
print("ready", flush=True)
sys.stdin.readline()  # "go": every writer starts at once
for i in range(int(sys.argv[2])):
    log.append("page_view", sys.argv[3], page="overview", i=i)
"""


def test_two_processes_and_threads_keep_one_chain(audit):
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(audit.path), "150", name],
                                  cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True) for name in ("p1", "p2")]
    assert [p.stdout.readline().strip() for p in processes] == ["ready", "ready"]

    def write(n):
        for i in range(40):
            audit.append("page_view", f"t{n}", i=i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.close()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(p.wait(timeout=60) == 0 for p in processes)
    check = audit.verify()
    assert check.ok, check.reason
    assert check.entries == 420
    users = [e["user"] for e in audit.entries()]
    assert users.count("p1") == users.count("p2") == 150
    assert all(users.count(f"t{n}") == 40 for n in range(3))
