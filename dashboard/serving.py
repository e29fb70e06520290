"""Where the dashboard may show data: only when it listens on this machine alone.

The documented ways to start it (``desist dashboard``, ``make demo``) pass
``--server.address 127.0.0.1`` and the other settings on the command line
(:mod:`analysis.cli.dashboard_commands`). Started any other way — ``streamlit run
/path/to/dashboard/streamlit_app.py`` from another folder reads no project config and
listens on every interface — the router finds a non-loopback address here and shows
:data:`REFUSAL` instead of the study: no database is opened and no number is shown.
The dashboard has no access control yet, so every non-loopback address is refused.

This module does not import streamlit: the router passes it the configured address.
"""

from __future__ import annotations

import ipaddress

#: Addresses that are the machine itself whatever their spelling.
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})

#: Shown instead of the dashboard when it listens beyond this machine (Markdown, no digit:
#: a test checks that the refused page shows no number at all).
REFUSAL_TITLE = "This dashboard is not served safely"
REFUSAL = """\
It was started so that it listens on **{where}**, which lets other machines on the
network open it, and the dashboard has no access control. The study's data are
therefore not shown, and the database has not been opened.

Start it the documented way, which serves it to this machine only (`localhost`), with no
usage statistics and no outside lookup, whatever folder you start it from:

```bash
desist dashboard --db path/to/study.duckdb        # or: make demo   (the demo database)
```

`desist dashboard --help` lists the options (the port, the database). See
`docs/dashboard.md`, section *Serving*.
"""


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


def refusal_markdown(address: object) -> str:
    """The refusal page's text for the configured ``address``."""
    where = "every network interface" if str(address or "").strip() in ("", "0.0.0.0", "::") \
        else "a network address"  # the address itself may hold digits: not quoted
    return REFUSAL.format(where=where)
