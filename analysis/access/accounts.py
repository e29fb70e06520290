"""Accounts: who may sign in, with which role and scope (``STUDY.duckdb.users.json``).

The file lives beside the study database, owner-only (0600), replaced atomically under a
lock (``STUDY.duckdb.users.json.lock``) at every change, so an import never touches it
and two administrators never lose each other's change. Passwords (method
``"accounts"`` only) are stored as argon2id hashes (argon2-cffi); in methods
``"header"`` and ``"oidc"`` the file still says who has which role and scope.

Examples
--------
>>> import tempfile
>>> from argon2 import PasswordHasher
>>> store = AccountStore(Path(tempfile.mkdtemp()) / "s.duckdb.users.json",
...                      hasher=PasswordHasher(time_cost=1, memory_cost=8192))
>>> store.add("eu-desk", "donor", password="a long passphrase", funders=["EU"]).funders
('EU',)
>>> store.authenticate("eu-desk", "a long passphrase").role
<Role.DONOR: 'donor'>
"""

from __future__ import annotations

import fcntl
import json
import os
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from analysis.access.config import access_paths, open_owner_only, write_owner_only
from analysis.access.roles import Role
from analysis.errors import DesistError, InvalidAccessConfigError, LoginRefused

MIN_PASSWORD_LENGTH = 12
#: Longer passwords are refused: hashing megabytes per attempt is a denial of service.
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 64
_NAME_PUNCTUATION = frozenset("._@-")
#: The roles each scope field limits (any other role given one is refused).
_SCOPE_ROLES = {"projects": Role.DONOR, "funders": Role.DONOR,
                "regions": Role.PLANNER, "facilities": Role.PLANNER}
_FORMAT = "desistance-accounts"
_WRONG = "unknown user or wrong password"


@dataclass(frozen=True)
class Account:
    """One account. ``created``/``changed`` are UTC ISO times; ``password_hash`` is an
    argon2id hash (``None``: no password, as in methods ``"header"`` and ``"oidc"``).

    Examples
    --------
    >>> Account("ana", Role.ANALYST).public()["role"]
    'analyst'
    """

    name: str
    role: Role
    projects: tuple[str, ...] = ()
    funders: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    facilities: tuple[str, ...] = ()
    disabled: bool = False
    password_hash: str | None = None
    created: str = ""
    changed: str = ""

    def public(self) -> dict[str, Any]:
        """The account as ``desist users list --json`` shows it: never the hash."""
        shown = asdict(self)
        del shown["password_hash"]
        shown["role"] = str(self.role)
        shown["password_set"] = self.password_hash is not None
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in shown.items()}


def checked_name(name: str) -> str:
    """``name`` in NFC if it is a valid account name, else a DesistError saying why.

    1 to 64 characters: letters, digits and ``. _ @ -``, not starting with ``-`` (it
    would read as a command-line option).

    Examples
    --------
    >>> checked_name("ana.lopez@ministry")
    'ana.lopez@ministry'
    >>> checked_name("two words")
    Traceback (most recent call last):
    ...
    analysis.errors.DesistError: account name 'two words': expected 1 to 64 letters, digits or . _ @ - (found ' ')
    """
    normal = unicodedata.normalize("NFC", name)
    what = f"account name {name!r}: expected 1 to {MAX_NAME_LENGTH} letters, digits or . _ @ -"
    if not 1 <= len(normal) <= MAX_NAME_LENGTH:
        raise DesistError(f"{what} (found {len(normal)} characters)")
    for char in normal:
        category = unicodedata.category(char)
        if not (category.startswith("L") or category == "Nd" or char in _NAME_PUNCTUATION):
            raise DesistError(f"{what} (found {char!r})")
    if normal.startswith("-"):
        raise DesistError(f"{what}, not starting with -")
    return normal


def checked_role(role: str | Role) -> Role:
    """``role`` as a :class:`Role`, else a DesistError listing the roles."""
    try:
        return Role(role)
    except ValueError:
        raise DesistError(f"unknown role {role!r}; expected one of "
                          f"{', '.join(r.value for r in Role)}") from None


def checked_password(password: str) -> str:
    """``password`` if it is long enough (and not absurdly long), else a DesistError."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DesistError(f"password too short: expected at least {MIN_PASSWORD_LENGTH} "
                          f"characters, found {len(password)} (a passphrase of several words "
                          "is easiest)")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DesistError(f"password too long: expected at most {MAX_PASSWORD_LENGTH} characters")
    return password


def _checked_values(field: str, values: Iterable[str]) -> tuple[str, ...]:
    out = []
    for value in values:
        text = unicodedata.normalize("NFC", str(value)).strip()
        if not text or any(unicodedata.category(c).startswith("C") for c in text):
            raise DesistError(f"{field[:-1]} {value!r}: expected a name as written in the "
                              "study (not empty, no control characters)")
        out.append(text)
    return tuple(sorted(set(out)))


def checked_account(name: str, role: str | Role, *, projects: Iterable[str] = (),
                    funders: Iterable[str] = (), regions: Iterable[str] = (),
                    facilities: Iterable[str] = ()) -> Account:
    """A new account from an administrator's words, checked (no password yet).

    A donor needs at least one project or funder; projects and funders are only for
    donors, regions and facilities only for planners.

    Examples
    --------
    >>> checked_account("p", "planner", regions=["North", "North"]).regions
    ('North',)
    >>> checked_account("d", "donor")
    Traceback (most recent call last):
    ...
    analysis.errors.DesistError: a donor sees only the programmes of their projects or funders: give at least one --project or --funder
    """
    role = checked_role(role)
    scopes = {"projects": _checked_values("projects", projects),
              "funders": _checked_values("funders", funders),
              "regions": _checked_values("regions", regions),
              "facilities": _checked_values("facilities", facilities)}
    for field, values in scopes.items():
        if values and _SCOPE_ROLES[field] is not role:
            option = "--facility" if field == "facilities" else f"--{field[:-1]}"
            article = "an" if role.value[0] in "aeiou" else "a"
            raise DesistError(f"{option} is for {_SCOPE_ROLES[field].value}s only; "
                              f"{article} {role.value} account has no such limit")
    if role is Role.DONOR and not (scopes["projects"] or scopes["funders"]):
        raise DesistError("a donor sees only the programmes of their projects or funders: "
                          "give at least one --project or --funder")
    return Account(checked_name(name), role, projects=scopes["projects"],
                   funders=scopes["funders"], regions=scopes["regions"],
                   facilities=scopes["facilities"])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class AccountStore:
    """The accounts file ``path`` (created on the first change).

    Parameters
    ----------
    path
        ``STUDY.duckdb.users.json``.
    hasher
        The argon2 :class:`~argon2.PasswordHasher` (default: the library's argon2id
        defaults). Tests pass cheap parameters; hashes made with other parameters still
        verify, and are rehashed at the next sign-in.
    """

    def __init__(self, path: Path, *, hasher: PasswordHasher | None = None) -> None:
        self.path = Path(path)
        self.hasher = hasher or PasswordHasher()
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._dummy_hash: str | None = None

    @classmethod
    def for_database(cls, db: str | os.PathLike[str], *,
                     hasher: PasswordHasher | None = None) -> AccountStore:
        """The accounts of the study database ``db``."""
        return cls(access_paths(db).accounts, hasher=hasher)

    # -- reading -------------------------------------------------------------------------

    def accounts(self) -> tuple[Account, ...]:
        """Every account, by name."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return ()
        except OSError as exc:
            raise InvalidAccessConfigError(
                f"{self.path}: cannot be read ({exc.strerror or exc})") from exc
        return _parse(raw, self.path)

    def get(self, name: str) -> Account | None:
        """The account called ``name`` (compared in NFC), or ``None``."""
        normal = unicodedata.normalize("NFC", name)
        return next((a for a in self.accounts() if a.name == normal), None)

    def _existing(self, accounts: list[Account], name: str) -> int:
        normal = unicodedata.normalize("NFC", name)
        for index, account in enumerate(accounts):
            if account.name == normal:
                return index
        raise DesistError(f"no account named {name!r} in {self.path}")

    # -- changing ------------------------------------------------------------------------

    @contextmanager
    def _changing(self) -> Iterator[list[Account]]:
        """The accounts, under the lock; what the block leaves in the list is written."""
        fd = open_owner_only(self._lock_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            accounts = list(self.accounts())
            yield accounts
            document = {"format": _FORMAT, "version": 1,
                        "accounts": [_as_json(a) for a in accounts]}
            write_owner_only(self.path, (json.dumps(document, ensure_ascii=False, indent=1)
                                         + "\n").encode("utf-8"))
        finally:
            os.close(fd)  # releases the lock

    def add(self, name: str, role: str | Role, *, password: str | None = None,
            projects: Iterable[str] = (), funders: Iterable[str] = (),
            regions: Iterable[str] = (), facilities: Iterable[str] = ()) -> Account:
        """Add an account (see :func:`checked_account`); ``password=None``: none."""
        account = checked_account(name, role, projects=projects, funders=funders,
                                  regions=regions, facilities=facilities)
        hashed = self.hasher.hash(checked_password(password)) if password is not None else None
        with self._changing() as accounts:
            taken = {a.name.casefold(): a.name for a in accounts}
            if account.name.casefold() in taken:
                raise DesistError(f"an account named {taken[account.name.casefold()]!r} "
                                  f"already exists in {self.path}")
            now = _now()
            account = replace(account, password_hash=hashed, created=now, changed=now)
            accounts.append(account)
            accounts.sort(key=lambda a: a.name)
        return account

    def _update(self, name: str, **changes: Any) -> Account:
        with self._changing() as accounts:
            index = self._existing(accounts, name)
            accounts[index] = replace(accounts[index], changed=_now(), **changes)
            return accounts[index]

    def set_password(self, name: str, password: str) -> None:
        """Give ``name`` a new password (at least 12 characters)."""
        self.get_or_fail(name)
        self._update(name, password_hash=self.hasher.hash(checked_password(password)))

    def disable(self, name: str) -> None:
        """Refuse every sign-in of ``name`` until :meth:`enable`."""
        self._update(name, disabled=True)

    def enable(self, name: str) -> None:
        """Let ``name`` sign in again."""
        self._update(name, disabled=False)

    def remove(self, name: str) -> None:
        """Delete the account ``name`` (its audit entries stay)."""
        with self._changing() as accounts:
            del accounts[self._existing(accounts, name)]

    def get_or_fail(self, name: str) -> Account:
        """The account ``name``, else a DesistError naming the accounts file."""
        account = self.get(name)
        if account is None:
            raise DesistError(f"no account named {name!r} in {self.path}")
        return account

    # -- signing in ----------------------------------------------------------------------

    def authenticate(self, name: str, password: str) -> Account:
        """The account ``name`` if ``password`` is its password and it is enabled.

        Raises :class:`~analysis.errors.LoginRefused`: ``"unknown_or_wrong"`` for an
        unknown name and for a wrong password alike (and in about the same time, so that
        neither the answer nor its delay tells which names exist), ``"disabled"`` for a
        disabled account — said only to someone who knows its password.
        """
        account = self.get(name)
        if account is None or account.password_hash is None:
            self._waste_a_verification(password)
            raise LoginRefused("unknown_or_wrong", _WRONG)
        try:
            self.hasher.verify(account.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise LoginRefused("unknown_or_wrong", _WRONG) from None
        if account.disabled:
            raise LoginRefused("disabled", f"the account {account.name!r} is disabled; ask "
                                           "the administrator")
        if self.hasher.check_needs_rehash(account.password_hash):
            self._rehash(account, password)
        return account

    def _waste_a_verification(self, password: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("not any account's password")
        try:
            self.hasher.verify(self._dummy_hash, password)
        except VerificationError:
            pass

    def _rehash(self, account: Account, password: str) -> None:
        """Store a hash with the current parameters, unless the password changed meanwhile."""
        fresh = self.hasher.hash(password)
        with self._changing() as accounts:
            for index, current in enumerate(accounts):
                if current.name == account.name and current.password_hash == account.password_hash:
                    accounts[index] = replace(current, password_hash=fresh)


def _as_json(account: Account) -> dict[str, Any]:
    out = asdict(account)
    out["role"] = str(account.role)
    return {key: list(value) if isinstance(value, tuple) else value for key, value in out.items()}


def _parse(raw: bytes, path: Path) -> tuple[Account, ...]:
    def bad(where: str, expected: str) -> InvalidAccessConfigError:
        return InvalidAccessConfigError(f"{path}: {where}: {expected} (the file is written by "
                                        "`desist users`; restore it from a backup)")

    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        line = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "content"
        raise bad(line, "not valid JSON") from exc
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise bad("format", f"expected a {_FORMAT} file")
    if document.get("version") != 1:
        raise bad("version", "expected version 1 (written by a newer Desistance?)")
    rows = document.get("accounts")
    if not isinstance(rows, list):
        raise bad("accounts", "expected a list")
    accounts = []
    for number, row in enumerate(rows, start=1):
        where = f"account {number}"
        if not isinstance(row, dict):
            raise bad(where, "expected an object")
        try:
            account = Account(
                name=checked_name(_text(row, "name")), role=checked_role(_text(row, "role")),
                projects=_texts(row, "projects"), funders=_texts(row, "funders"),
                regions=_texts(row, "regions"), facilities=_texts(row, "facilities"),
                disabled=row.get("disabled", False) is True,
                password_hash=_text(row, "password_hash") if row.get("password_hash") else None,
                created=str(row.get("created", "")), changed=str(row.get("changed", "")))
        except (DesistError, TypeError) as exc:
            raise bad(where, str(exc)) from exc
        accounts.append(account)
    return tuple(accounts)


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise TypeError(f"field {key}: expected a text, found {value!r}")
    return value


def _texts(row: dict[str, Any], key: str) -> tuple[str, ...]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"field {key}: expected a list of texts")
    return tuple(value)
