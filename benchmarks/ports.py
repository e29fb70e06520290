"""A free TCP port on this machine, for the servers the benchmarks and browser tests start."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the system picks it; it is released at once).

    Examples
    --------
    >>> 1024 <= free_port() <= 65535
    True
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
