"""``desist users ...`` and ``desist audit``: accounts and the audit trail of the served
dashboard (docs/access.md).

Both work on the files beside the study database (``STUDY.duckdb.access.toml``,
``.users.json``, ``.audit.jsonl``), never on the database itself; every change to an
account is recorded in the audit log under the operating-system user who made it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from analysis.cli import main
from analysis.cli.common import EXIT_INVALID, db_option, emit_json, handle_errors, resolved_db
from analysis.errors import DesistError

#: Scripted set-up reads the password here (never from a command-line argument, which
#: other users of the machine can see in the process list).
PASSWORD_ENV = "DESIST_PASSWORD"
ROLES = ("admin", "analyst", "planner", "donor")


def access_files_errors(func: Callable) -> Callable:
    """A file of the access control that cannot be read or written: exit 2, naming it.

    Typically the command was run by another user than the files' owner (run it as the
    dashboard's user: ``sudo -u desist desist users ...``), or --db names a folder that
    does not exist.
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (PermissionError, FileNotFoundError, NotADirectoryError,
                IsADirectoryError) as exc:
            where = exc.filename or kwargs.get("db") or "the access files"
            raise DesistError(
                f"cannot use {where}: {exc.strerror or exc}; run the command as the owner "
                "of the study's files, with --db naming an existing folder") from exc

    return wrapper


def _store(db_path: Path):
    from analysis.access.accounts import AccountStore

    return AccountStore.for_database(db_path)


def _record(db_path: Path, event: str, **details: Any) -> None:
    from analysis.access.audit import AuditLog, os_user

    AuditLog.for_database(db_path).append(event, os_user(), **details)


def _method(db_path: Path) -> str | None:
    """The configured method, None when there is no configuration file yet."""
    from analysis.access.config import load_access_config

    config = load_access_config(db_path)
    return config.method if config else None


def _new_password(what: str) -> str:
    """A password from $DESIST_PASSWORD, else a hidden prompt asked twice; checked."""
    from analysis.access.accounts import checked_password

    password = os.environ.get(PASSWORD_ENV)
    if password:
        click.echo(f"password of {what} read from ${PASSWORD_ENV}", err=True)
    else:
        password = click.prompt(f"Password for {what}", hide_input=True,
                                confirmation_prompt=True, err=True)
    return checked_password(password)


def _warn_unknown_names(db_path: Path, scopes: dict[str, tuple[str, ...]]) -> None:
    """Warn about projects, funders, regions or facilities the study does not contain.

    Only a warning: an administrator may create a donor's account before the donor's
    programmes are imported.
    """
    if not any(scopes.values()):
        return
    if not db_path.exists():
        click.echo(f"warning: {db_path} does not exist yet: the names given were not "
                   "checked against the study", err=True)
        return
    from analysis.study import open_study
    from analysis.views.scope import unknown_scope_names

    try:
        with open_study(db_path) as study:
            unknown = unknown_scope_names(study.connection, **scopes)
    except DesistError as exc:  # e.g. a database to migrate: the account can still be made
        click.echo(f"warning: the names given were not checked against the study: {exc}",
                   err=True)
        return
    for kind, names in unknown.items():
        click.echo(f"warning: the study has no {kind[:-1] if kind != 'facilities' else 'facility'}"
                   f" {', '.join(map(repr, names))} (yet?): check the spelling", err=True)


@main.group("users", cls=click.Group)
def users_group() -> None:
    """Manage the dashboard's built-in accounts (add, list, disable, enable, passwd, remove).

    Accounts live in STUDY.duckdb.users.json beside the database (owner-only); how users
    are identified is set in STUDY.duckdb.access.toml, which `users add` creates when it
    is missing. Every change is recorded in the audit log. See docs/access.md.
    """


NAME = click.argument("name")


@users_group.command("add")
@NAME
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="admin: users, imports, every page; analyst: every page; planner: "
              "aggregate pages, fixed k; donor: their programmes' Programmes and Impact.")
@click.option("--project", "projects", multiple=True,
              help="(donor) A project whose programmes the donor sees; repeatable.")
@click.option("--funder", "funders", multiple=True,
              help="(donor) A funder whose programmes the donor sees; repeatable.")
@click.option("--region", "regions", multiple=True,
              help="(planner) Only releases to this region; repeatable.")
@click.option("--facility", "facilities", multiple=True,
              help="(planner) Only releases from this facility; repeatable.")
@db_option
@handle_errors
@access_files_errors
def users_add_command(name, role, projects, funders, regions, facilities, db):
    """Add an account; its password is asked (or read from $DESIST_PASSWORD).

    With method "header" or "oidc" no password is asked: the proxy or the identity
    server checks who the user is, the account gives the role and scope.
    """
    from analysis.access.accounts import checked_account
    from analysis.access.config import write_default_config

    db_path = resolved_db(db)
    if not db_path.parent.is_dir():
        raise DesistError(f"{db_path.parent} is not a folder: --db must name the study "
                          "database's path in an existing folder")
    account = checked_account(name, role, projects=projects, funders=funders,
                              regions=regions, facilities=facilities)
    store = _store(db_path)
    if store.get(account.name) is not None:
        raise DesistError(f"an account named {account.name!r} already exists in {store.path}")
    scopes = {"projects": account.projects, "funders": account.funders,
              "regions": account.regions, "facilities": account.facilities}
    _warn_unknown_names(db_path, scopes)
    configured = _method(db_path)
    # No configuration yet: the template about to be written says "accounts".
    method = configured or "accounts"
    password = _new_password(account.name) if method == "accounts" else None
    if configured is None:
        config_path = write_default_config(db_path)
        click.echo(f"created {config_path} (method \"accounts\": the dashboard's own sign-in "
                   "form); edit it to change the method, k per role or session lengths")
    if password is None and os.environ.get(PASSWORD_ENV):
        click.echo(f"note: ${PASSWORD_ENV} ignored: method {method!r} uses no password",
                   err=True)
    added = store.add(account.name, account.role, password=password, **scopes)
    _record(db_path, "user_added", name=added.name, role=str(added.role),
            **{kind: list(values) for kind, values in scopes.items() if values})
    click.echo(f"added {added.role} {added.name!r}{_scope_words(added.public())}")


@users_group.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
@handle_errors
@access_files_errors
def users_list_command(db, as_json):
    """List the accounts: role, scope, status (never a password or its hash)."""
    accounts = [a.public() for a in _store(resolved_db(db)).accounts()]
    if as_json:
        emit_json(accounts)
        return
    if not accounts:
        click.echo("no accounts")
        return
    rows = [(a["name"], a["role"], "disabled" if a["disabled"] else "active",
             _scope_words(a).removeprefix(", ") or "everything", a["changed"]) for a in accounts]
    header = ("name", "role", "status", "scope", "changed")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
                   + "  " + str(row[-1]))


def _scope_words(account: dict[str, Any]) -> str:
    parts = [f"{kind}: {', '.join(account[kind])}"
             for kind in ("projects", "funders", "regions", "facilities") if account[kind]]
    return (", " + "; ".join(parts)) if parts else ""


@users_group.command("disable")
@NAME
@db_option
@handle_errors
@access_files_errors
def users_disable_command(name, db):
    """Refuse every sign-in of NAME (until `desist users enable NAME`)."""
    _switch(name, db, disabled=True)


@users_group.command("enable")
@NAME
@db_option
@handle_errors
@access_files_errors
def users_enable_command(name, db):
    """Let NAME sign in again after `desist users disable NAME`."""
    _switch(name, db, disabled=False)


def _switch(name: str, db: str | None, *, disabled: bool) -> None:
    db_path = resolved_db(db)
    store = _store(db_path)
    account = store.get_or_fail(name)
    word = "disabled" if disabled else "enabled"
    if account.disabled == disabled:
        click.echo(f"{account.name!r} is already {word}; nothing changed")
        return
    (store.disable if disabled else store.enable)(account.name)
    _record(db_path, "user_disabled" if disabled else "user_enabled", name=account.name)
    click.echo(f"{word} {account.name!r}")
    if disabled:
        click.echo("sessions already open end at their next page (or when they expire)")


@users_group.command("passwd")
@NAME
@db_option
@handle_errors
@access_files_errors
def users_passwd_command(name, db):
    """Set a new password for NAME (asked, or read from $DESIST_PASSWORD)."""
    db_path = resolved_db(db)
    store = _store(db_path)
    account = store.get_or_fail(name)
    method = _method(db_path)
    if method not in (None, "accounts"):
        raise DesistError(f"method {method!r} in {db_path}.access.toml uses no password: "
                          "the proxy or identity server checks the user's password")
    store.set_password(account.name, _new_password(account.name))
    _record(db_path, "password_changed", name=account.name)
    click.echo(f"new password set for {account.name!r}")


@users_group.command("remove")
@NAME
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@db_option
@handle_errors
@access_files_errors
def users_remove_command(name, yes, db):
    """Delete the account NAME (its entries in the audit log stay)."""
    db_path = resolved_db(db)
    store = _store(db_path)
    account = store.get_or_fail(name)
    if not yes:
        click.confirm(f"Remove the {account.role} account {account.name!r}?", abort=True)
    store.remove(account.name)
    _record(db_path, "user_removed", name=account.name)
    click.echo(f"removed {account.name!r}")


@main.command("audit")
@db_option
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Only entries from this day on (YYYY-MM-DD, UTC).")
@click.option("--user", "user", default=None, help="Only entries of this user.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the entries as CSV.")
@click.option("--verify", is_flag=True,
              help="Check the hash chain: exit 0 if intact, 2 naming the first bad line.")
@handle_errors
@access_files_errors
def audit_command(db, since, user, as_json, as_csv, verify):
    """Read or verify the audit trail of the served dashboard.

    Entries (sign-ins, page views, downloads, reports, imports, account changes) are
    printed oldest first. --verify recomputes every entry's hash: a line changed,
    removed, inserted or moved is named. See docs/access.md for what it cannot see.
    """
    from analysis.access.audit import AuditLog

    if as_json and as_csv:
        raise DesistError("give --json or --csv, not both")
    log = AuditLog.for_database(resolved_db(db))
    if verify:
        check = log.verify()
        if as_json:
            emit_json({"ok": check.ok, "entries": check.entries, "line": check.line,
                       "reason": check.reason})
        else:
            click.echo(f"{log.path}: {check.reason}", err=not check.ok)
        if not check.ok:
            sys.exit(EXIT_INVALID)
        return
    if not log.path.exists():
        raise DesistError(f"no audit log at {log.path} (nothing recorded yet, or the file "
                          "was moved)")
    entries = log.entries(since=since, user=user)
    if as_json:
        emit_json(entries)
    elif as_csv:
        _print_csv(entries)
    else:
        for entry in entries:
            click.echo(f"{entry['time']}  #{entry['seq']}  {entry['event']}  "
                       f"{entry['user'] if entry['user'] is not None else '-'}"
                       f"{_details_words(entry['details'])}")


def _details_words(details: dict[str, Any]) -> str:
    words = [f"{key}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
             for key, value in details.items()]
    return ("  " + " ".join(words)) if words else ""


def _print_csv(entries: Iterable[dict[str, Any]]) -> None:
    from analysis.spreadsheet_safety import FORMULA_PREFIXES

    def cell(value: Any) -> Any:
        # A user name or a detail chosen by a visitor must not run as a spreadsheet formula.
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            return "'" + value
        return value

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["seq", "time", "event", "user", "details", "prev", "hash"])
    for e in entries:
        writer.writerow([e["seq"], e["time"], e["event"], cell(e["user"] or ""),
                         cell(json.dumps(e["details"], ensure_ascii=False, sort_keys=True)),
                         e["prev"], e["hash"]])
    click.echo(out.getvalue(), nl=False)
