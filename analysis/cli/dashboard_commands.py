"""``desist dashboard``: start the dashboard on this machine only, silently, from any folder.

Streamlit reads ``.streamlit/config.toml`` from the *current* folder only, so started from
anywhere else it would listen on every interface, send usage statistics and look the
machine's public address up on the internet. This command therefore passes every setting
on Streamlit's command line (:data:`STREAMLIT_SETTINGS`): nothing depends on the folder it
is started from, nor on a config file or environment variable that says otherwise.

Streamlit is imported inside :func:`launch` only: ``desist`` starts as fast as before.
``desist serve`` (:mod:`analysis.cli.serve_commands`) starts the same server through
:func:`launch`, on another address when access control is configured.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from analysis.cli import main
from analysis.cli.common import db_option, handle_errors, resolved_db
from analysis.errors import DesistError

#: The Streamlit app (``dashboard/streamlit_app.py`` of this checkout).
APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"

#: Served to this machine only; the address the dashboard checks (dashboard/serving.py).
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8501

#: Every Streamlit setting the dashboard relies on, given explicitly (``--name value``).
#: ``.streamlit/config.toml`` holds the same values for a bare ``streamlit run`` from
#: the repository root.
STREAMLIT_SETTINGS: dict[str, str] = {
    "server.address": LOOPBACK,  # this machine only; no public-IP lookup at start
    "server.headless": "true",  # no browser opened, no e-mail prompt
    "browser.gatherUsageStats": "false",  # no telemetry
    "browser.serverAddress": "localhost",  # the address printed and shown
    "server.fileWatcherType": "none",  # nothing is edited while it serves
    # Streamlit collects all garbage after every page run: a third of a warm page's
    # server time (0.22 s -> 0.10 s a page at 50,000 releases; 20 sessions at once went
    # from 1.5 to 1.9 pages a second). Python's own collector still frees cycles.
    "runner.postScriptGC": "false",
    "server.runOnSave": "false",
    "server.maxUploadSize": "200",  # MB, the Data page's import form
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "global.developmentMode": "false",
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",  # no traceback reaches a reader
    "theme.base": "light",
}


#: Addresses that are the machine itself whatever their spelling.
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


def is_loopback_address(address: object) -> bool:
    """Whether a Streamlit ``server.address`` serves this machine only.

    Parameters
    ----------
    address
        The configured address: ``None`` or ``""`` (unset: every interface), a host
        name, an IPv4/IPv6 address, or ``unix://...``.

    Returns
    -------
    bool
        True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``); False
        for an unset address, the wildcards ``0.0.0.0`` and ``::``, any other host name
        or address, and Unix sockets (their reach depends on file permissions).

    Examples
    --------
    >>> [is_loopback_address(a) for a in ("127.0.0.1", "localhost", "::1", "[::1]")]
    [True, True, True, True]
    >>> [is_loopback_address(a) for a in (None, "", "0.0.0.0", "::", "192.168.1.4")]
    [False, False, False, False, False]
    """
    text = str(address or "").strip().lower()
    if not text:
        return False
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False  # another host name, a unix:// socket, anything unexpected


def streamlit_arguments(port: int, app: Path = APP, *, host: str = LOOPBACK,
                        settings: Mapping[str, str | list[str]] | None = None) -> list[str]:
    """``streamlit run`` arguments that serve ``app`` on ``host:port``.

    ``settings`` add to or replace :data:`STREAMLIT_SETTINGS` (a list value gives the
    option once per item, e.g. ``secrets.files``).

    Examples
    --------
    >>> args = streamlit_arguments(8600)
    >>> args[:1], args[args.index("--server.address") + 1], args[args.index("--server.port") + 1]
    (['run'], '127.0.0.1', '8600')
    """
    arguments = ["run", str(app)]
    every = {**STREAMLIT_SETTINGS, "server.address": host, "server.port": str(port),
             **(settings or {})}
    for name, value in every.items():
        for one in value if isinstance(value, list) else [value]:
            arguments += [f"--{name}", one]
    return arguments


def study_path(db: str | None) -> Path:
    """The study database to serve, as an absolute path; invalid input when missing."""
    path = Path(resolved_db(db)).resolve()
    if not path.is_file():
        raise DesistError(f"no study database at {path}; build the demo with `make demo-db` "
                          "or import your data with `desist import DATASET --db PATH`")
    return path


def launch(path: Path, port: int, *, host: str = LOOPBACK,
           settings: Mapping[str, str | list[str]] | None = None) -> None:
    """Run the Streamlit server for the study at ``path`` until it is stopped."""
    # The app reads the database from the environment, as every other entry point does.
    os.environ["DESIST_DB"] = str(path)
    from streamlit.web import cli as streamlit_cli  # heavy: only when serving

    sys.argv = ["streamlit", *streamlit_arguments(port, host=host, settings=settings)]
    streamlit_cli.main(prog_name="streamlit")


@main.command("dashboard")
@db_option
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port on this machine (http://localhost:PORT).")
@handle_errors
def dashboard(db: str | None, port: int) -> None:
    """Serve the dashboard on http://localhost:PORT, to this machine only.

    No usage statistics are sent and nothing is looked up on the internet, whatever
    folder the command is started from. Stop it with Ctrl+C. Set DESIST_ALLOW_IMPORT=1
    to let the Data page import datasets.
    """
    path = study_path(db)
    click.echo(f"Dashboard on http://localhost:{port} for {path} (Ctrl+C to stop)")
    launch(path, port)
