"""Pseudonymization at the door: raw person identifiers never reach the database.

``person_id`` is replaced by HMAC-SHA256(key, raw id), written as 64 hex digits.
The same raw id and key always give the same pseudonym, so later imports link to
earlier ones; without the key nobody can test a guessed id against the database.

The key comes from ``--key-file``, else ``DESIST_KEY_FILE``, else the file
``<database>.key`` beside the database, created on first import with owner-only
permissions. The database stores a fingerprint of the key (never the key), so an
import with the wrong key is refused instead of silently breaking the links.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from analysis.errors import DesistError

KEY_ENV_VAR = "DESIST_KEY_FILE"
_KEY_BYTES = 32


class PseudonymKeyError(DesistError):
    """The pseudonymization key is missing, unreadable or not the database's key."""


def default_key_path(db: Path) -> Path:
    return db.with_name(db.name + ".key")


def resolve_key_path(db: Path, key_file: str | os.PathLike[str] | None) -> Path:
    if key_file:
        return Path(key_file)
    from_env = os.environ.get(KEY_ENV_VAR, "").strip()
    return Path(from_env) if from_env else default_key_path(db)


def load_or_create_key(path: Path, *, create: bool) -> bytes:
    """Read the key at ``path``; create it (mode 0600) when missing and ``create`` is true."""
    if path.exists():
        text = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise PseudonymKeyError(
                f"the key file {path} does not hold a hex key; restore the original key file"
            ) from None
        if len(key) < 16:
            raise PseudonymKeyError(
                f"the key in {path} is too short (at least 16 bytes are needed)"
            )
        return key
    if not create:
        raise PseudonymKeyError(
            f"no pseudonymization key at {path}; give --key-file or set {KEY_ENV_VAR}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_KEY_BYTES)
    # Create with owner-only permissions from the start, never readable by others.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key


def key_fingerprint(key: bytes) -> str:
    """A value that identifies the key without revealing it (stored in the database)."""
    return hmac.digest(key, b"desistance key fingerprint v1", "sha256").hex()[:16]


class Pseudonymizer:
    """Turns raw person identifiers into keyed pseudonyms.

    Examples
    --------
    >>> p = Pseudonymizer(bytes(32))
    >>> p.one("P-0001") == p.one(" P-0001 "), len(p.one("P-0001"))
    (True, 64)
    """

    def __init__(self, key: bytes):
        self._key = key
        self.fingerprint = key_fingerprint(key)

    def one(self, raw: str) -> str:
        return hmac.digest(self._key, raw.strip().encode("utf-8"), "sha256").hex()

    def series(self, raw: pd.Series) -> pd.Series:
        """Pseudonymize a column, hashing each distinct id once."""
        distinct = pd.unique(raw.dropna())
        mapping = {value: self.one(value) for value in distinct}
        return raw.map(mapping)
