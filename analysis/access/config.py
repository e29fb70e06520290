"""The access configuration beside the study database, and the files it governs.

Three files sit beside ``STUDY.duckdb`` (never inside it, so an import, which swaps the
database file, never touches them), each readable and writable by its owner only:

- ``STUDY.duckdb.access.toml`` — how users are identified (``method``: built-in
  ``"accounts"``, a trusted reverse-proxy ``"header"``, or ``"oidc"``) and the per-role
  settings (minimum cell sizes, session lifetimes, the login throttle);
- ``STUDY.duckdb.users.json`` — the accounts (:mod:`analysis.access.accounts`);
- ``STUDY.duckdb.audit.jsonl`` — the audit trail (:mod:`analysis.access.audit`).

No configuration file means no access control: the single analyst on their own machine
(:data:`analysis.access.roles.LOCAL`).

Examples
--------
>>> paths = access_paths("data/study.duckdb")
>>> paths.config.name, paths.accounts.name, paths.audit.name
('study.duckdb.access.toml', 'study.duckdb.users.json', 'study.duckdb.audit.jsonl')
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.access.roles import DONOR_MIN_CELL, Role, Scope
from analysis.constants import MIN_CELL_FLOOR
from analysis.errors import DesistError, InvalidAccessConfigError

if TYPE_CHECKING:
    from analysis.access.accounts import Account

ACCESS_SUFFIX = ".access.toml"
ACCOUNTS_SUFFIX = ".users.json"
AUDIT_SUFFIX = ".audit.jsonl"

#: The ways a user can be identified (``method`` in the configuration file).
METHODS = ("accounts", "header", "oidc")

#: Owner-only, whatever the umask: these files decide who sees what, and who did what.
OWNER_ONLY = 0o600


@dataclass(frozen=True)
class AccessPaths:
    """The access files of one study database (see the module's description)."""

    config: Path
    accounts: Path
    audit: Path


def access_paths(db: str | os.PathLike[str]) -> AccessPaths:
    """The access files beside the study database ``db`` (they need not exist).

    Examples
    --------
    >>> access_paths("/srv/s.duckdb").audit
    PosixPath('/srv/s.duckdb.audit.jsonl')
    """
    base = os.fspath(db)
    return AccessPaths(Path(base + ACCESS_SUFFIX), Path(base + ACCOUNTS_SUFFIX),
                       Path(base + AUDIT_SUFFIX))


@dataclass(frozen=True)
class AccessConfig:
    """The parsed ``STUDY.duckdb.access.toml``: each field's ``[table] key`` and default.

    Examples
    --------
    >>> AccessConfig(method="accounts").session_idle_minutes
    30
    """

    method: str                      # method
    analyst_min_cell_floor: int = 5  # [min_cell] analyst_floor: analysts choose k from here up
    planner_min_cell: int = 10       # [min_cell] planner: k fixed for planners
    donor_min_cell_floor: int = 10   # [min_cell] donor_floor: never below DONOR_MIN_CELL
    session_idle_minutes: int = 30   # [session] idle_minutes
    session_max_hours: int = 8       # [session] max_hours
    max_failures: int = 5            # [login] max_failures (per user name and per address)
    failure_window_minutes: int = 15 # [login] window_minutes
    user_header: str = "X-Remote-User"            # [header] user
    secret_header: str = "X-Desist-Proxy-Secret"  # [header] secret
    secret_sha256: str | None = None              # [header] secret_sha256 (method header)
    oidc_claim: str = "email"                     # [oidc] claim: the st.user field naming the account
    oidc_secrets_file: str | None = None          # [oidc] secrets_file: secrets.toml with [auth]
    path: Path | None = None


#: Every setting: (table, key) in the file -> (field of AccessConfig, kind, smallest value).
_INT, _TEXT = "an integer", "a text"
_SETTINGS: dict[tuple[str, str], tuple[str, str, int]] = {
    ("min_cell", "analyst_floor"): ("analyst_min_cell_floor", _INT, MIN_CELL_FLOOR),
    ("min_cell", "planner"): ("planner_min_cell", _INT, MIN_CELL_FLOOR),
    ("min_cell", "donor_floor"): ("donor_min_cell_floor", _INT, DONOR_MIN_CELL),
    ("session", "idle_minutes"): ("session_idle_minutes", _INT, 1),
    ("session", "max_hours"): ("session_max_hours", _INT, 1),
    ("login", "max_failures"): ("max_failures", _INT, 1),
    ("login", "window_minutes"): ("failure_window_minutes", _INT, 1),
    ("header", "user"): ("user_header", _TEXT, 1),
    ("header", "secret"): ("secret_header", _TEXT, 1),
    ("header", "secret_sha256"): ("secret_sha256", _TEXT, 1),
    ("oidc", "claim"): ("oidc_claim", _TEXT, 1),
    ("oidc", "secrets_file"): ("oidc_secrets_file", _TEXT, 1),
}
#: A sane ceiling for every integer (a year in minutes): a typo, not a wish, above it.
_LARGEST = 525_600
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TOML_LINE = re.compile(r"at line (\d+)")


def load_access_config(db: str | os.PathLike[str]) -> AccessConfig | None:
    """The access configuration beside ``db``, or ``None`` when there is none.

    Raises :class:`~analysis.errors.InvalidAccessConfigError` naming the file, the line
    (a TOML syntax error) or the field, and what was expected — for any content at all.

    Examples
    --------
    >>> import tempfile
    >>> db = Path(tempfile.mkdtemp()) / "s.duckdb"
    >>> load_access_config(db) is None
    True
    >>> _ = access_paths(db).config.write_text('method = "header"\\n')
    >>> load_access_config(db)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.InvalidAccessConfigError: ...: field header.secret_sha256: required ...
    """
    path = access_paths(db).config
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidAccessConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return parse_access_config(raw, path)


def parse_access_config(raw: bytes, path: Path) -> AccessConfig:
    """Parse the bytes of an access configuration file read from ``path``.

    Examples
    --------
    >>> parse_access_config(b'method = "accounts"\\n[session]\\nidle_minutes = 10\\n',
    ...                     Path("s.duckdb.access.toml")).session_idle_minutes
    10
    """
    try:
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise InvalidAccessConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except RecursionError as exc:
        raise InvalidAccessConfigError(f"{path}: nested too deeply to be a configuration "
                                       "file; expected key = value lines under [tables]") from exc
    except ValueError as exc:  # tomllib.TOMLDecodeError, and any value it cannot build
        line = _TOML_LINE.search(str(exc))
        where = f" line {line.group(1)}" if line else ""
        raise InvalidAccessConfigError(
            f"{path}{where}: not valid TOML ({exc}); expected key = value lines under "
            "[tables], as in the template `desist users add` writes") from exc
    return _config_from(document, text, path)


def _config_from(document: dict[str, Any], text: str, path: Path) -> AccessConfig:
    def problem(table: str | None, key: str, expected: str) -> InvalidAccessConfigError:
        field = f"{table}.{key}" if table else key
        line = _line_of(text, table, key)
        where = f" line {line}" if line else ""
        return InvalidAccessConfigError(f"{path}{where}: field {field}: {expected}")

    values: dict[str, Any] = {"path": path}
    tables = {table for table, _ in _SETTINGS}
    for key, value in document.items():
        if key == "method":
            if value not in METHODS:
                raise problem(None, key, f"expected one of {', '.join(map(repr, METHODS))}, "
                                         f"found {value!r}")
            values["method"] = value
        elif key in tables:
            if not isinstance(value, dict):
                raise problem(None, key, f"expected a table [{key}]")
            for setting, setting_value in value.items():
                if (key, setting) not in _SETTINGS:
                    known = ", ".join(k for t, k in _SETTINGS if t == key)
                    raise problem(key, setting, f"unknown setting; expected one of {known}")
                name, kind, least = _SETTINGS[(key, setting)]
                values[name] = _checked(setting_value, kind, least,
                                        lambda expected, k=key, s=setting: problem(k, s, expected))
        else:
            raise problem(None, key, "unknown field; expected method or a table among "
                                     + ", ".join(f"[{t}]" for t in sorted(tables)))
    if "method" not in values:
        raise problem(None, "method", 'missing; expected method = "accounts", "header" or "oidc"')
    config = AccessConfig(**values)
    if config.planner_min_cell < config.analyst_min_cell_floor:
        raise problem("min_cell", "planner",
                      f"expected at least analyst_floor ({config.analyst_min_cell_floor})")
    if config.session_idle_minutes > config.session_max_hours * 60:
        raise problem("session", "idle_minutes",
                      f"expected at most max_hours x 60 ({config.session_max_hours * 60})")
    for table, key in (("header", "user"), ("header", "secret")):
        if not _HEADER_NAME.match(getattr(config, _SETTINGS[(table, key)][0])):
            raise problem(table, key, "expected an HTTP header name (letters, digits, -)")
    if config.user_header.lower() == config.secret_header.lower():
        raise problem("header", "secret", "expected a header other than [header] user")
    if config.secret_sha256 is not None:
        # sha256sum prints lower case; a digest pasted in upper case is the same digest.
        config = replace(config, secret_sha256=config.secret_sha256.lower())
    if config.secret_sha256 is not None and not _SHA256.match(config.secret_sha256):
        raise problem("header", "secret_sha256",
                      "expected 64 lower-case hexadecimal digits (sha256sum of the secret)")
    if config.method == "header" and config.secret_sha256 is None:
        raise problem("header", "secret_sha256",
                      'required when method = "header": the SHA-256 of the secret the proxy '
                      "sends, so that a direct connection cannot pose as the proxy")
    return config


def _checked(value: Any, kind: str, least: int, problem) -> int | str:
    if kind == _INT:
        # TOML booleans are not numbers here, even though Python's bool is an int.
        if not isinstance(value, int) or isinstance(value, bool):
            raise problem(f"expected an integer, found {value!r}")
        if not least <= value <= _LARGEST:
            raise problem(f"expected an integer from {least} to {_LARGEST}, found {value}")
        return value
    if not isinstance(value, str) or len(value.strip()) < least:
        raise problem(f"expected a text of at least {least} character(s), found {value!r}")
    return value.strip()


def _line_of(text: str, table: str | None, key: str) -> int | None:
    """The line where ``key`` is set in ``[table]`` (``None``: top level), if it is."""
    current: str | None = None
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).strip('"')
            if table is None and current == key:
                return number
        elif current == table and pattern.match(line):
            return number
    return None


_TEMPLATE = """\
# Access control of the study database beside this file (docs/access.md).
# Written by `desist users add`; edit it, then restart `desist serve`.
# Owner-only (0600): keep it so.

# How users are identified:
#   "accounts" - the dashboard's own sign-in form and `desist users` accounts;
#   "header"   - a trusted reverse proxy (nginx, Apache + LDAP) names the user in a header;
#   "oidc"     - your organisation's identity server through Streamlit's st.login.
# In every method the accounts file (`desist users ...`) says who has which role and scope.
method = "{method}"

[min_cell]
# Smallest count shown (k). Analysts and administrators choose k from analyst_floor up.
analyst_floor = 5
# Planners always get this k.
planner = 10
# Donors choose k from donor_floor up (never below 10).
donor_floor = 10

[session]
# A session ends after this many minutes without a page, and after max_hours at most.
idle_minutes = 30
max_hours = 8

[login]
# After max_failures failed sign-ins within window_minutes, for one user name or one
# client address, further attempts are refused until the window has passed.
max_failures = 5
window_minutes = 15

[header]
# method = "header": the proxy puts the user name in `user` and a shared secret in
# `secret`. secret_sha256 is the SHA-256 of that secret (printf %s SECRET | sha256sum).
user = "X-Remote-User"
secret = "X-Desist-Proxy-Secret"
{secret_line}

[oidc]
# method = "oidc": which field of the identity token names the account, and the
# Streamlit secrets file holding the [auth] section (client id and secret).
claim = "email"
# secrets_file = "/etc/desistance/secrets.toml"
"""


def write_default_config(db: str | os.PathLike[str], method: str = "accounts") -> Path:
    """Write the commented template configuration beside ``db`` (0600) and return its path.

    Refuses to replace an existing file. With ``method="header"`` the file does not load
    until ``[header] secret_sha256`` is filled in: a header method without the proxy's
    secret would let anyone pose as any user.

    Examples
    --------
    >>> import tempfile
    >>> db = Path(tempfile.mkdtemp()) / "s.duckdb"
    >>> oct(write_default_config(db).stat().st_mode & 0o777)
    '0o600'
    >>> load_access_config(db).method
    'accounts'
    """
    if method not in METHODS:
        raise DesistError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    path = access_paths(db).config
    secret_line = ('secret_sha256 = "REPLACE WITH sha256sum OF THE SECRET"' if method == "header"
                   else '# secret_sha256 = "..."')
    text = _TEMPLATE.format(method=method, secret_line=secret_line)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError as exc:
        raise DesistError(f"{path} already exists; edit it rather than replace it") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), OWNER_ONLY)
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    return path


def write_owner_only(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file, fsync, rename), 0600.

    A reader sees the old content or the new, never a half-written file. The caller holds
    the lock that orders writers.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    try:
        os.fchmod(fd, OWNER_ONLY)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def open_owner_only(path: Path, flags: int) -> int:
    """``os.open`` creating ``path`` owner-only (0600 whatever the umask) if missing."""
    fd = os.open(path, flags | os.O_CREAT, OWNER_ONLY)
    try:
        if os.fstat(fd).st_mode & 0o777 != OWNER_ONLY:
            os.fchmod(fd, OWNER_ONLY)
    except BaseException:
        os.close(fd)
        raise
    return fd


def scope_for(account: Account, config: AccessConfig | None) -> Scope:
    """The :class:`~analysis.access.roles.Scope` of ``account`` under ``config``.

    Examples
    --------
    >>> from analysis.access.accounts import Account
    >>> donor = Account("eu", Role.DONOR, funders=("EU",))
    >>> scope_for(donor, AccessConfig(method="accounts", donor_min_cell_floor=15)).min_cell(5)
    15
    >>> scope_for(Account("p", Role.PLANNER), AccessConfig(method="accounts")).fixed_min_cell
    10
    """
    config = config or AccessConfig(method="accounts")
    role = Role(account.role)
    if role is Role.DONOR:
        return Scope(role, user=account.name, projects=account.projects,
                     funders=account.funders, min_cell_floor=config.donor_min_cell_floor)
    if role is Role.PLANNER:
        return Scope(role, user=account.name, regions=account.regions,
                     facilities=account.facilities,
                     min_cell_floor=config.analyst_min_cell_floor,
                     fixed_min_cell=config.planner_min_cell)
    return Scope(role, user=account.name, min_cell_floor=config.analyst_min_cell_floor)

