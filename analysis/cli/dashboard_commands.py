"""``desist dashboard``: start the dashboard on this machine only, silently, from any folder.

Streamlit reads ``.streamlit/config.toml`` from the *current* folder only, so started from
anywhere else it would listen on every interface, send usage statistics and look the
machine's public address up on the internet. This command therefore passes every setting
on Streamlit's command line (:data:`STREAMLIT_SETTINGS`): nothing depends on the folder it
is started from, nor on a config file or environment variable that says otherwise.

Streamlit is imported inside the command only: ``desist`` starts as fast as before.
"""

from __future__ import annotations

import os
import sys
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
    "server.runOnSave": "false",
    "server.maxUploadSize": "200",  # MB, the Data page's import form
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "global.developmentMode": "false",
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",  # no traceback reaches a reader
    "theme.base": "light",
}


def streamlit_arguments(port: int, app: Path = APP) -> list[str]:
    """``streamlit run`` arguments that serve ``app`` on ``127.0.0.1:port``.

    Examples
    --------
    >>> args = streamlit_arguments(8600)
    >>> args[:1], args[args.index("--server.address") + 1], args[args.index("--server.port") + 1]
    (['run'], '127.0.0.1', '8600')
    """
    arguments = ["run", str(app)]
    for name, value in {**STREAMLIT_SETTINGS, "server.port": str(port)}.items():
        arguments += [f"--{name}", value]
    return arguments


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
    path = Path(resolved_db(db)).resolve()
    if not path.is_file():
        raise DesistError(f"no study database at {path}; build the demo with `make demo-db` "
                          "or import your data with `desist import DATASET --db PATH`")
    # The app reads the database from the environment, as every other entry point does.
    os.environ["DESIST_DB"] = str(path)
    from streamlit.web import cli as streamlit_cli  # heavy: only when serving

    click.echo(f"Dashboard on http://localhost:{port} for {path} (Ctrl+C to stop)")
    sys.argv = ["streamlit", *streamlit_arguments(port)]
    streamlit_cli.main(prog_name="streamlit")
