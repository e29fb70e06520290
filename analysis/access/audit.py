"""The audit trail: an append-only, hash-chained log beside the study database.

``STUDY.duckdb.audit.jsonl`` holds one JSON object a line::

    {"seq": 7, "time": "2026-12-01T15:31:50Z", "event": "login", "user": "eu-desk",
     "details": {"method": "accounts", "client": "10.0.0.7"}, "prev": "<hash of entry 6>",
     "hash": "<sha256 of prev + this entry without its hash>"}

Each entry's ``hash`` covers the previous entry's hash, so changing, removing, inserting
or reordering a line breaks the chain from there on: :meth:`AuditLog.verify` names the
first line that does not fit. (Removing the *last* lines leaves a shorter chain that is
intact: only a copy kept elsewhere — the backups — shows that; see docs/access.md.)

Appends are ``O_APPEND`` writes of a whole line under ``fcntl.flock``, so several
sessions and processes (the dashboard, ``desist import``, ``desist users``) can write at
once; the file is created owner-only (0600). No password and no person id ever goes in.

Examples
--------
>>> import tempfile
>>> log = AuditLog(Path(tempfile.mkdtemp()) / "s.duckdb.audit.jsonl")
>>> log.append("login", "ana", method="accounts")["seq"]
1
>>> log.append("page_view", "ana", page="overview")["seq"]
2
>>> log.verify()
AuditCheck(ok=True, entries=2, line=None, reason='2 entries, chain intact')
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.access.config import access_paths, open_owner_only

#: The ``prev`` of the first entry.
GENESIS = "0" * 64
ENTRY_KEYS = ("seq", "time", "event", "user", "details", "prev", "hash")
EVENTS = ("login", "login_failed", "logout", "session_expired", "access_refused",
          "page_view", "download", "report", "import", "user_added", "user_changed",
          "user_disabled", "user_enabled", "password_changed", "user_removed")
#: Detail names refused outright: a secret must never reach the log, even by mistake.
_FORBIDDEN_DETAILS = ("password", "hash", "secret", "person_id")
_TAIL_BLOCK = 4096


def canonical(entry: dict[str, Any]) -> str:
    """The one JSON text of ``entry`` that its hash covers (sorted keys, no spaces).

    Examples
    --------
    >>> canonical({"b": 1, "a": "é"})
    '{"a":"é","b":1}'
    """
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: dict[str, Any]) -> str:
    """sha256 of the entry's ``prev`` followed by its canonical JSON without ``hash``."""
    body = {key: value for key, value in entry.items() if key != "hash"}
    return hashlib.sha256((str(entry.get("prev", "")) + canonical(body)).encode("utf-8")
                          ).hexdigest()


def os_user() -> str:
    """The operating-system user running this process (who ran a ``desist`` command).

    Examples
    --------
    >>> isinstance(os_user(), str) and os_user() != ""
    True
    """
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid {os.getuid()}"


@dataclass(frozen=True)
class AuditCheck:
    """What :meth:`AuditLog.verify` found: ``line`` is the first bad line (1-based)."""

    ok: bool
    entries: int
    line: int | None
    reason: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _is_entry(value: Any) -> bool:
    return (isinstance(value, dict) and tuple(sorted(value)) == tuple(sorted(ENTRY_KEYS))
            and isinstance(value["seq"], int) and not isinstance(value["seq"], bool)
            and isinstance(value["hash"], str) and isinstance(value["prev"], str)
            and isinstance(value["details"], dict))


class AuditLog:
    """The audit log file ``path`` (created, 0600, by the first :meth:`append`).

    Parameters
    ----------
    path
        ``STUDY.duckdb.audit.jsonl``.
    durable
        ``fsync`` each entry before :meth:`append` returns (default): a recorded sign-in
        or import survives a power cut.
    """

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable

    @classmethod
    def for_database(cls, db: str | os.PathLike[str], *, durable: bool = True) -> AuditLog:
        """The audit log of the study database ``db``."""
        return cls(access_paths(db).audit, durable=durable)

    def append(self, event: str, user: str | None = None, **details: Any) -> dict[str, Any]:
        """Record ``event`` by ``user`` with ``details`` (JSON values); return the entry.

        Raises ``ValueError`` for an unknown event or a detail named like a secret.
        """
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}; expected one of {EVENTS}")
        for key in details:
            if any(word in key.lower() for word in _FORBIDDEN_DETAILS):
                raise ValueError(f"audit detail {key!r} looks like a secret: never logged")
        details = json.loads(json.dumps(details))  # tuples -> lists, as they will read back
        fd = open_owner_only(self.path, os.O_RDWR | os.O_APPEND)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last, ends_in_newline = self._last_entry(fd)
            entry = {"seq": (last["seq"] + 1) if last else 1, "time": _now(), "event": event,
                     "user": user, "details": details,
                     "prev": last["hash"] if last else GENESIS}
            entry["hash"] = entry_hash(entry)
            # A line torn by a crash stays as it is (verify reports it); ours starts anew.
            line = ("" if ends_in_newline else "\n") + canonical(entry) + "\n"
            data = memoryview(line.encode("utf-8"))
            while data:
                data = data[os.write(fd, data):]
            if self.durable:
                os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        return entry

    def _last_entry(self, fd: int) -> tuple[dict[str, Any] | None, bool]:
        """The last valid entry of the file (None: empty), and whether it ends in a newline."""
        size = os.fstat(fd).st_size
        if size == 0:
            return None, True
        ends_in_newline = os.pread(fd, 1, size - 1) == b"\n"
        tail = b""
        start = size
        # Read back block by block until the tail holds the whole last line.
        while start > 0 and tail.rstrip(b"\n").count(b"\n") == 0:
            start = max(0, start - _TAIL_BLOCK)
            tail = os.pread(fd, size - start, start)
        for raw in reversed(tail.splitlines()):
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if _is_entry(entry):
                return entry, ends_in_newline
        if start == 0:
            return None, ends_in_newline
        # The last line is damaged: chain from the last good entry of the whole file.
        for entry in reversed(list(self._read_all())):
            if entry is not None:
                return entry, ends_in_newline
        return None, ends_in_newline

    def _read_all(self) -> list[dict[str, Any] | None]:
        """Every line: its entry, or None when it is not a valid entry."""
        try:
            with self.path.open("rb") as log:
                lines = log.read().splitlines()
        except FileNotFoundError:
            return []
        out: list[dict[str, Any] | None] = []
        for raw in lines:
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                entry = None
            out.append(entry if _is_entry(entry) else None)
        return out

    def entries(self, *, since: datetime | None = None,
                user: str | None = None) -> list[dict[str, Any]]:
        """The entries, oldest first, from ``since`` (naive: UTC) and of ``user`` only.

        Lines that are not valid entries are left out (:meth:`verify` names them).
        """
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        out = []
        for entry in self._read_all():
            if entry is None or (user is not None and entry["user"] != user):
                continue
            if since is not None:
                try:
                    when = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
                except ValueError:
                    continue
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                if when < since:
                    continue
            out.append(entry)
        return out

    def verify(self) -> AuditCheck:
        """Check the chain; name the first line changed, removed, inserted or moved.

        A missing file is not intact: the log was deleted, or nothing was ever recorded.
        """
        if not self.path.exists():
            return AuditCheck(False, 0, None, f"no audit log at {self.path}")
        previous: dict[str, Any] | None = None
        count = 0
        for number, entry in enumerate(self._read_all(), start=1):
            problem = _chain_problem(entry, previous)
            if problem:
                return AuditCheck(False, count, number, f"line {number}: {problem}")
            previous = entry
            count += 1
        noun = "entry" if count == 1 else "entries"
        return AuditCheck(True, count, None, f"{count} {noun}, chain intact")


def _chain_problem(entry: dict[str, Any] | None, previous: dict[str, Any] | None) -> str | None:
    """Why ``entry`` cannot follow ``previous`` (None: the first line), or None."""
    if entry is None:
        return "not a valid audit entry (edited, or torn by a crash)"
    if entry_hash(entry) != entry["hash"]:
        return "changed after it was written (its hash does not match its content)"
    expected_seq = previous["seq"] + 1 if previous else 1
    expected_prev = previous["hash"] if previous else GENESIS
    if entry["prev"] == expected_prev and entry["seq"] == expected_seq:
        return None
    if entry["seq"] > expected_seq:
        missing = entry["seq"] - expected_seq
        return (f"{missing} entr{'y' if missing == 1 else 'ies'} removed before it "
                f"(expected entry {expected_seq}, found {entry['seq']})")
    return (f"inserted or moved (expected entry {expected_seq} after entry "
            f"{expected_seq - 1}, found entry {entry['seq']})")
