"""Options and output helpers shared by every ``desist`` command."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from analysis.errors import (
    DesistError,
    damaged_database_error,
    file_named_in,
    is_damaged_database,
    is_no_space,
    no_space_error,
)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2


def db_option(func: Callable) -> Callable:
    """``--db PATH``; falls back to ``DESIST_DB`` then ``data/demo.duckdb``."""
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False),
        default=None,
        help="Study database (default: $DESIST_DB, else data/demo.duckdb).",
    )(func)


def json_option(func: Callable) -> Callable:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print a machine-readable JSON summary."
    )(func)


def resolved_db(db: str | None):
    from analysis.store import resolve_db_path  # imports duckdb: not before a command runs

    return resolve_db_path(db)


def open_cli_study(db: str | None, events: str | None, selection=None):
    """The :class:`~analysis.study.Study` a command analyses: ``--db`` and ``--events``."""
    from analysis.study import open_study  # the analysis stack: only when a command runs
    from analysis.survival.episodes import Outcome

    return open_study(db, outcome=Outcome.from_types(events), selection=selection)


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars, NaN and dates into JSON values (NaN/inf become null)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(_jsonable(payload), ensure_ascii=False, indent=2))


#: Exit status when the output's reader closed the pipe (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


def handle_errors(func: Callable) -> Callable:
    """Map user errors to exit 2 with a plain message, anything else to exit 1.

    No traceback is shown unless ``DESIST_DEBUG=1``.
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DesistError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # The reader went away (`desist km | head`): nothing is wrong and nothing more
            # can be said. As the Python docs advise, point stdout at devnull so that the
            # interpreter's final flush does not fail again, and exit as a process
            # stopped by SIGPIPE would (128 + 13).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            fault = _fault_the_user_can_fix(exc, kwargs)
            if fault is not None:
                click.echo(f"error: {fault}", err=True)
                sys.exit(fault.exit_code)
            if os.environ.get("DESIST_DEBUG") == "1":
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in Desistance; rerun with DESIST_DEBUG=1 to see the details.",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)

    return wrapper


def _fault_the_user_can_fix(exc: Exception, options: dict[str, Any]) -> DesistError | None:
    """A full disk or a damaged database file, met while a command ran (exit 2, not a bug).

    DuckDB reports both as its own exceptions, from wherever it happened to read or
    write, so they are recognised here once for every command.
    """
    if is_no_space(exc):
        context = click.get_current_context(silent=True)
        command = f"desist {context.info_name}" if context else "desist"
        where = file_named_in(exc) or os.getcwd()
        return no_space_error(where, action=f"{command} could not write {where}")
    if is_damaged_database(exc):
        # Commands with a --db option read the database it resolves to (--db, $DESIST_DB...).
        db = resolved_db(options["db"]) if "db" in options else None
        return damaged_database_error(db, exc)
    return None
