"""Pseudonymization at the door: raw person identifiers never reach the database.

``person_id`` is replaced by HMAC-SHA256(key, raw id), written as 64 hex digits.
The same raw id and key always give the same pseudonym, so later imports link to
earlier ones; without the key nobody can test a guessed id against the database.

The key comes from ``--key-file``, else ``DESIST_KEY_FILE``, else the file
``<database>.key`` beside the database, created on first import with owner-only
permissions (mode 0600, whatever the umask). A key file that the group or other users
can read or change is refused, with the ``chmod`` that fixes it. The database stores a fingerprint of the key (never the key), so an
import with the wrong key is refused instead of silently breaking the links.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shlex
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
        try:
            text = path.read_text(encoding="ascii", errors="replace").strip()
        except OSError as exc:
            raise PseudonymKeyError(f"cannot read the key file {path}: {exc.strerror}") from None
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
    key = new_key()
    save_new_key(path, key)
    return key


def new_key() -> bytes:
    """A fresh random key (not yet saved anywhere)."""
    return secrets.token_bytes(_KEY_BYTES)


def save_new_key(path: Path, key: bytes) -> None:
    """Write ``key`` to a new file with owner-only permissions; never overwrite a key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Create with owner-only permissions from the start, never readable by others.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PseudonymKeyError(
            f"a key file appeared at {path} during the import; run the import again"
        ) from None
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # A half-written key (disk full) would make every later import fail: remove it.
        path.unlink(missing_ok=True)
        raise


def check_key_is_private(path: Path) -> None:
    """Refuse a key file that users other than its owner can read or change.

    Whoever can read the key can test guessed raw ids against the database, and whoever
    can change it can break the links between imports; the message gives the ``chmod``
    that fixes it. Refusing (rather than warning) makes the problem impossible to miss.
    The importer checks this once it knows the key is the database's own, so that a
    wrong key is reported as wrong first.

    Raises
    ------
    PseudonymKeyError
        When the file's mode gives the group or others any access.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise PseudonymKeyError(f"cannot read the key file {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise PseudonymKeyError(
            f"the key file {path} can be read or changed by other users (mode {mode:04o}); "
            f"make it private with: chmod 600 {shlex.quote(str(path))}"
        )


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
        self.fingerprint = key_fingerprint(key)
        self._hmac = _HmacSha256(key)
        # The same people appear in releases, participation and events: hash each once.
        # The ids already hashed and their digests are kept as Arrow arrays (text, and 32
        # bytes per digest), not as a dict of Python strings: at ten million people a dict
        # held about a gigabyte.
        self._known_raw = pa.array([], type=pa.large_string())
        self._known_digests = pa.array([], type=pa.binary(_DIGEST_BYTES))

    def one(self, raw: str) -> str:
        return self._digest(raw).hex()

    def _digest(self, raw: str) -> bytes:
        return self._hmac.digest(raw.strip().encode("utf-8"))

    def series(self, raw: pd.Series) -> pd.Series:
        """Pseudonymize a column, hashing each distinct id once (missing stays missing)."""
        hashed = pa.concat_arrays(list(self.in_slices(pa.array(raw.astype(_TEXT)), len(raw) or 1)))
        return pd.Series(_TEXT.__from_arrow__(hashed), index=raw.index, name=raw.name)

    def in_slices(self, raw: pa.Array | pa.ChunkedArray, rows: int, *, as_hex: bool = True):
        """The pseudonyms of ``raw`` (Arrow text), ``rows`` at a time (missing stays missing).

        Each distinct id is hashed once, and the pseudonyms of only one slice are held at
        a time (64 hex characters per row: 640 MB for ten million rows at once).
        ``as_hex=False`` gives the 32-byte digests instead (the pseudonym is their
        lower-case hex; DuckDB writes it as ``lower(hex(digest))``).
        """
        values = raw.cast(pa.large_string())
        if isinstance(values, pa.ChunkedArray):  # a column read in blocks
            values = values.combine_chunks()
        encoded = pc.dictionary_encode(values)  # missing ids stay null indices
        distinct = encoded.dictionary
        where = pc.index_in(distinct, value_set=self._known_raw)
        new = distinct.filter(pc.is_null(where))
        if len(new):
            # One HMAC per id never seen before (Python's hmac: no vectorised keyed hash).
            digests = pa.array([self._digest(v) for v in new.to_pylist()],
                               type=pa.binary(_DIGEST_BYTES))
            self._known_raw = pa.concat_arrays([self._known_raw, new])
            self._known_digests = pa.concat_arrays([self._known_digests, digests])
            where = pc.index_in(distinct, value_set=self._known_raw)
        digests = self._known_digests.take(where)
        del distinct, where
        for first in range(0, max(len(encoded), 1), rows):
            indices = encoded.indices.slice(first, rows)
            chosen = digests.take(indices)
            if not as_hex:
                yield chosen
                continue
            hexed = _hex(chosen) if len(chosen) else pa.array([], pa.string())
            if chosen.null_count:
                hexed = pc.if_else(pc.is_valid(chosen), hexed, pa.scalar(None, pa.string()))
            yield hexed

    def originals(self, pseudonyms: list[str]) -> list[str | None]:
        """The raw ids this pseudonymizer hashed into ``pseudonyms`` (None if it did not).

        Used to quote a rejected row's own person_id back in a message, after the rows
        went to the database's staging tables with pseudonyms only.
        """
        if not pseudonyms:
            return []
        digests = pa.array([bytes.fromhex(p) for p in pseudonyms], type=pa.binary(_DIGEST_BYTES))
        where = pc.index_in(digests, value_set=self._known_digests)
        return self._known_raw.take(where).to_pylist()


_DIGEST_BYTES = 32
_SHA256_BLOCK = 64


class _HmacSha256:
    """HMAC-SHA256 (RFC 2104) of many short messages under one key.

    The same digests as ``hmac.digest(key, message, "sha256")``, in about half the time:
    the key's padded blocks are hashed once, and each message costs two copies of those
    states (``hmac.digest`` sets the key up again for every call; at a million people
    that was 3 of the import's seconds). Tested against :func:`hmac.digest`.
    """

    def __init__(self, key: bytes):
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()
_TEXT = pd.StringDtype(storage="pyarrow", na_value=np.nan)
_HEX_PAIRS = np.array([f"{byte:02x}" for byte in range(256)], dtype="S2")


def _hex(digests: pa.Array) -> pa.Array:
    """Fixed-size binary digests as lower-case hex text, without a Python object per digest."""
    if len(digests) == 0:
        return pa.array([], type=pa.string())
    data = np.frombuffer(digests.buffers()[1], dtype=np.uint8,
                         count=len(digests) * _DIGEST_BYTES, offset=digests.offset * _DIGEST_BYTES)
    text = np.ascontiguousarray(_HEX_PAIRS[data.reshape(-1, _DIGEST_BYTES)]).view(
        f"S{2 * _DIGEST_BYTES}").ravel()
    return pa.array(text, type=pa.binary()).cast(pa.string())
