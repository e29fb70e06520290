"""A small authenticating reverse proxy for the tests: what nginx does in method (b).

It forwards HTTP and WebSocket traffic to a served dashboard, as the nginx configuration
of ``docs/deployment.md`` does:

- every header the client sent under the user header's or the secret header's name is
  **dropped** (a browser cannot name itself);
- the user header (the name the proxy "authenticated") and the proxy secret header are
  **added**, on plain requests and on the WebSocket handshake alike (Streamlit reads the
  WebSocket's headers);
- ``Host`` is passed as the client sent it (``proxy_set_header Host $http_host``), so
  Streamlit's same-origin check of the WebSocket sees the address the browser used.

Runs a tornado server (tornado comes with Streamlit) on its own event loop in a thread::

    with AuthProxy("http://127.0.0.1:8501", user="eu-desk", secret="s3cret") as proxy:
        page.goto(proxy.url)
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketClientConnection, WebSocketHandler, websocket_connect

from benchmarks.ports import free_port

#: Hop-by-hop headers (RFC 9110 section 7.6.1): they describe one connection, never forwarded.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate",
                        "proxy-authorization", "te", "trailer", "transfer-encoding",
                        "upgrade"})
#: What the WebSocket client library writes itself on the upstream handshake.
WEBSOCKET_OWN = frozenset({"sec-websocket-key", "sec-websocket-version",
                           "sec-websocket-extensions"})
STREAM_PATH = "/_stcore/stream"
#: The Data page's import form sends whole files (the dashboard accepts 200 MB).
MAX_BODY = 256 * 1024 * 1024



class AuthProxy:
    """A reverse proxy to ``upstream`` that names ``user`` and proves itself with ``secret``.

    Parameters
    ----------
    upstream
        The dashboard's base URL, ``http://127.0.0.1:PORT``.
    user
        The name put in ``user_header``; ``None`` forwards no user header (the proxy let an
        unauthenticated person through). Can be changed while the proxy runs.
    secret
        The value put in ``secret_header``; ``None`` sends none (a proxy that was never
        given the secret).
    user_header, secret_header
        The header names (the access configuration's ``[header] user`` and ``secret``).

    Examples
    --------
    >>> proxy = AuthProxy("http://127.0.0.1:9", user="ana", secret="s")
    >>> sorted(proxy.forwarded_headers(HTTPHeaders({"X-Remote-User": "admin",
    ...     "Cookie": "a=1", "Connection": "keep-alive"})).get_all())
    [('Cookie', 'a=1'), ('X-Desist-Proxy-Secret', 's'), ('X-Remote-User', 'ana')]
    """

    def __init__(self, upstream: str, *, user: str | None, secret: str | None,
                 user_header: str = "X-Remote-User",
                 secret_header: str = "X-Desist-Proxy-Secret") -> None:
        self.upstream = upstream.rstrip("/")
        self.user, self.secret = user, secret
        self.user_header, self.secret_header = user_header, secret_header
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def forwarded_headers(self, incoming: HTTPHeaders, *, websocket: bool = False
                          ) -> HTTPHeaders:
        """The headers sent upstream for a request that came with ``incoming``."""
        dropped = HOP_BY_HOP | {self.user_header.lower(), self.secret_header.lower()}
        if websocket:
            dropped |= WEBSOCKET_OWN
        headers = HTTPHeaders()
        for name, value in incoming.get_all():
            if name.lower() not in dropped:
                headers.add(name, value)
        if self.user is not None:
            headers[self.user_header] = self.user
        if self.secret is not None:
            headers[self.secret_header] = self.secret
        return headers

    # -- running -----------------------------------------------------------------------

    def _application(self) -> Application:
        # No access log: the browser's probes of other base paths (404) are not news.
        return Application([(STREAM_PATH, _StreamProxy, {"proxy": self}),
                            (r".*", _HttpProxy, {"proxy": self})],
                           log_function=lambda handler: None)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop

        async def start() -> None:
            self._server = HTTPServer(self._application(), max_body_size=MAX_BODY,
                                      xheaders=False)
            self._server.listen(self.port, address="127.0.0.1")
            self._ready.set()

        loop.run_until_complete(start())
        loop.run_forever()
        loop.close()

    def start(self) -> AuthProxy:
        """Start serving on :attr:`url` (returns when it accepts connections)."""
        self._thread = threading.Thread(target=self._serve, name="auth-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("the test proxy did not start")
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.stop()
                await self._server.close_all_connections()
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = None

    def __enter__(self) -> AuthProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _HttpProxy(RequestHandler):
    """Every plain HTTP request: forwarded, the answer passed back as it came."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")

    def initialize(self, proxy: AuthProxy) -> None:
        self.proxy = proxy

    def check_xsrf_cookie(self) -> None:
        """Streamlit checks its own XSRF token; the proxy passes the cookie through."""

    async def _forward(self) -> None:
        request = self.request
        body = request.body if request.method in ("POST", "PUT", "PATCH") else None
        upstream = HTTPRequest(
            self.proxy.upstream + request.uri, method=request.method,
            headers=self.proxy.forwarded_headers(request.headers), body=body,
            follow_redirects=False, decompress_response=False,
            allow_nonstandard_methods=True, request_timeout=600)
        reply = await AsyncHTTPClient().fetch(upstream, raise_error=False)
        if reply.code == 599:  # no answer at all: the dashboard is down
            self.set_status(502)
            self.finish(b"the dashboard behind the proxy does not answer")
            return
        self.set_status(reply.code, reply.reason)
        self._headers = HTTPHeaders()  # only the dashboard's own headers go back
        for name, value in reply.headers.get_all():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.add_header(name, value)
        if reply.code not in (204, 304) and request.method != "HEAD" and reply.body:
            self.write(reply.body)
        self.finish()

    get = head = post = put = delete = patch = options = _forward  # type: ignore[assignment]


class _StreamProxy(WebSocketHandler):
    """Streamlit's WebSocket: opened upstream with the proxy's headers, then relayed."""

    def initialize(self, proxy: AuthProxy) -> None:
        self.proxy = proxy
        self.upstream: WebSocketClientConnection | None = None

    def check_origin(self, origin: str) -> bool:
        """Streamlit checks the origin itself (against the ``Host`` passed on)."""
        return True

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        # Streamlit passes its XSRF token and session id as further "subprotocols";
        # the first entry is the protocol it selects. The raw header goes upstream as is.
        return subprotocols[0] if subprotocols and subprotocols[0] else None

    async def open(self, *args: Any, **kwargs: Any) -> None:
        url = self.proxy.upstream.replace("http", "ws", 1) + self.request.uri
        headers = self.proxy.forwarded_headers(self.request.headers, websocket=True)
        try:
            self.upstream = await websocket_connect(
                HTTPRequest(url, headers=headers, request_timeout=60),
                on_message_callback=self._from_upstream, max_message_size=MAX_BODY)
        except Exception:  # noqa: BLE001  (the dashboard refused or is down: tell the page)
            self.close(1011, "the dashboard behind the proxy refused the connection")

    def _from_upstream(self, message: str | bytes | None) -> None:
        if message is None:  # the dashboard closed its side
            self.close()
        elif self.ws_connection is not None and not self.ws_connection.is_closing():
            self.write_message(message, binary=isinstance(message, bytes))

    async def on_message(self, message: str | bytes) -> None:
        if self.upstream is not None:
            await self.upstream.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        if self.upstream is not None:
            self.upstream.close()
