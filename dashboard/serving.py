"""Where the dashboard may show data: on this machine, or with access control configured.

The documented ways to start it (``desist dashboard``, ``make demo``, ``desist serve``)
pass ``--server.address`` and the other settings on the command line
(:mod:`analysis.cli.dashboard_commands`). Started any other way — ``streamlit run
/path/to/dashboard/streamlit_app.py`` from another folder reads no project config and
listens on every interface — the router finds a non-loopback address here. Such an
address serves the study only when access control is configured beside the database
(``STUDY.duckdb.access.toml``, :mod:`dashboard.auth`: every user signs in and sees only
their scope); otherwise the router shows :data:`REFUSAL` instead of the study: no
database is opened and no number is shown.

This module does not import streamlit: the router passes it the configured address.
"""

from __future__ import annotations

from collections.abc import Callable

from analysis.cli.dashboard_commands import is_loopback_address  # noqa: F401 - the router's
from analysis.i18n import N_

#: Shown instead of the dashboard when it listens beyond this machine with no access
#: control (Markdown, no digit: a test checks that the refused page shows no number).
REFUSAL_TITLE = N_("This dashboard is not served safely")
REFUSAL = N_("""\
It was started so that it listens on **{where}**, which lets other machines on the
network open it, and no access control is configured for this study. The study's data
are therefore not shown, and the database has not been opened.

To use it on this machine only, start it the documented way, which serves it to this
machine alone (`localhost`), with no usage statistics and no outside lookup, whatever
folder you start it from:

```bash
desist dashboard --db path/to/study.duckdb        # or: make demo   (the demo database)
```

To serve it to other machines, configure access control first: add an administrator
(`desist users add NAME --role admin --db path/to/study.duckdb`), then start it with
`desist serve --host ADDRESS --db path/to/study.duckdb`. See `docs/access.md` and
`docs/deployment.md`.
""")
_EVERY_INTERFACE = N_("every network interface")
_A_NETWORK_ADDRESS = N_("a network address")


def may_serve(address: object, *, access_configured: bool) -> bool:
    """Whether the study may be shown on ``address``.

    Always on a loopback address (:func:`is_loopback_address`); on any other one only
    when access control is configured for the database, so that every reader signs in.

    Examples
    --------
    >>> may_serve("127.0.0.1", access_configured=False)
    True
    >>> may_serve("0.0.0.0", access_configured=False)
    False
    >>> may_serve("0.0.0.0", access_configured=True)
    True
    """
    return access_configured or is_loopback_address(address)


def refusal_markdown(address: object,
                     translate: Callable[[str], str] = lambda text: text) -> str:
    """The refusal page's text for the configured ``address``, in ``translate``'s language.

    Examples
    --------
    >>> "every network interface" in refusal_markdown("0.0.0.0")
    True
    """
    wildcard = str(address or "").strip() in ("", "0.0.0.0", "::")
    # The address itself may hold digits: not quoted.
    where = translate(_EVERY_INTERFACE if wildcard else _A_NETWORK_ADDRESS)
    return translate(REFUSAL).format(where=where)
