"""Writing an export: checked paths, one file at a time, never half-written.

The rules are those of ``desist import --rejects`` (:mod:`analysis.ingest.rejects`),
whose list of a database's own files is reused:

* ``--out`` (and the dictionary beside it) is checked before anything is read: it is
  never the study database, its pseudonymization key, lock, write-ahead log, temporary
  folder or the served dashboard's files, even with ``--force``; never a folder; an
  existing file is replaced only with ``--force``; the folder must exist;
* each file is written to a temporary file in the same folder (owner-only, mode 0600:
  the rows are the analyst's individual-level data), flushed to disk, then put in place
  in one step: without ``--force`` with a hard link, which fails if a file of that name
  appeared meanwhile, with ``--force`` with :func:`os.replace`. A failure removes the
  temporary file, so no half-written file is ever left under the name asked for.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from analysis.errors import UnsafeOutputPathError

# The database's own files, as the rejects file's check lists them (one list for both).
from analysis.ingest.rejects import database_files, same_file

#: Owner-only: the rows are individual-level records.
EXPORT_FILE_MODE = 0o600


def _absolute(path: Path) -> Path:
    return Path(os.path.realpath(os.path.abspath(path)))


def check_output_path(out: str | os.PathLike[str], *, db: Path, key: Path,
                      force: bool = False, option: str = "--out") -> Path:
    """Refuse an output path that would destroy something; return it as a ``Path``.

    Parameters
    ----------
    out : path
        The file to write.
    db, key : Path
        The study database and its key file (``<db>.key`` or ``$DESIST_KEY_FILE``).
    force : bool
        Allow replacing an existing file (never one of the database's own files).
    option : str
        How the message names the path (``--out``, or the dictionary beside it).

    Raises
    ------
    UnsafeOutputPathError
        For the database or one of its files (even with ``force``), a folder, a path
        whose folder does not exist, and without ``force`` an existing file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_path(folder / "study.duckdb", db=folder / "study.duckdb",
    ...                   key=folder / "study.duckdb.key", force=True)
    Traceback (most recent call last):
    ...
    analysis.errors.UnsafeOutputPathError: ...is the study database...
    """
    path = Path(out)
    resolved = _absolute(path)
    shown = str(path) if Path(os.path.abspath(path)) == resolved else f"{path} (= {resolved})"
    for protected, what in database_files(db, key).items():
        if resolved == protected or same_file(resolved, protected):
            raise UnsafeOutputPathError(
                f"{option} {shown} is {what}; the export would destroy it. Choose another "
                "file (--force does not allow this)")
    if resolved.is_dir():
        raise UnsafeOutputPathError(
            f"{option} {shown} is a folder; give the path of a new file, for example "
            f"{path / 'episodes.csv'}")
    if not resolved.parent.is_dir():
        raise UnsafeOutputPathError(
            f"{option} {shown}: the folder {path.parent} does not exist; create it first")
    if not force and os.path.lexists(path):
        raise UnsafeOutputPathError(
            f"{option} {shown} already exists; choose a new file name, or add --force to "
            "replace it")
    return path


class PendingFile:
    """A file written under a temporary name beside its target, not yet in place.

    Parameters
    ----------
    target : Path
        Where it goes (already checked with :func:`check_output_path`).
    write : callable
        Called with the temporary path; writes the whole file there.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
    >>> pending = PendingFile(target, lambda p: p.write_text("a\\n1\\n"))
    >>> target.exists(), pending.publish(force=False) == target, target.read_text()
    (False, True, 'a\\n1\\n')
    """

    def __init__(self, target: Path, write: Callable[[Path], object]) -> None:
        self.target = target
        descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                            dir=target.parent)
        os.close(descriptor)  # mkstemp made it 0600; the writers reopen it by name
        self.temporary: Path | None = Path(name)
        try:
            write(self.temporary)
            with open(self.temporary, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(self.temporary, EXPORT_FILE_MODE)  # a writer may have re-created it
        except BaseException:
            self.discard()
            raise

    def publish(self, *, force: bool) -> Path:
        """Put the file in place in one step; return its path."""
        if self.temporary is None:
            raise RuntimeError(f"{self.target} was already published or discarded")
        if force:
            os.replace(self.temporary, self.target)
        else:
            try:
                os.link(self.temporary, self.target)  # fails if the name was taken meanwhile
            except FileExistsError:
                self.discard()
                raise UnsafeOutputPathError(
                    f"{self.target} appeared while the export ran; nothing was replaced. "
                    "Choose a new file name, or add --force") from None
            except OSError:
                # no hard links on this file system: the check of check_output_path
                # stands, with the short window between it and here
                if os.path.lexists(self.target):
                    self.discard()
                    raise UnsafeOutputPathError(
                        f"{self.target} appeared while the export ran; nothing was "
                        "replaced. Choose a new file name, or add --force") from None
                os.replace(self.temporary, self.target)
            else:
                os.unlink(self.temporary)
        self.temporary = None
        return self.target

    def discard(self) -> None:
        """Remove the temporary file (nothing under the target name is touched)."""
        if self.temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temporary)
            self.temporary = None
