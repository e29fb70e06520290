"""A browser-free Streamlit client: one session over the server's WebSocket.

Speaks Streamlit's own protocol on ``/_stcore/stream`` as a browser does: a ``BackMsg``
(``rerun_script``: the page, the address's query string, the widgets' values) out, then
``ForwardMsg`` in until the run's ``script_finished``. Each page run becomes a
:class:`Render`: the seconds until then, the elements drawn, exceptions and error
messages (errors), warnings, bytes received. The widgets' values are sent back with the
next request (:func:`widget_state`), so a session keeps its sidebar filters from page to
page as in a browser: for the first page switch of an analyst, a planner and a donor, the
widget states, page and query string sent are those Chromium sends (compared frame by
frame). Used by ``benchmarks/bench_sessions.py`` and its test.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field


@dataclass
class Render:
    """One page run: the page (its menu title), seconds until ``script_finished``, the
    elements drawn, the errors and warnings among them and the bytes received."""

    page: str
    seconds: float
    elements: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    received: int = 0
    role: str = ""


@dataclass(frozen=True)
class Page:
    """A page of the session's menu (Streamlit's ``navigation`` message)."""

    title: str
    url_path: str
    script_hash: str


class StreamSession:
    """A browser-free Streamlit session: one WebSocket, page runs asked one at a time.

    Parameters
    ----------
    url
        The server's base URL (``http://127.0.0.1:8501``).
    headers
        Sent with the WebSocket's opening request (the proxy's user and secret headers).
    timeout
        Seconds a run may take before it counts as an error.
    role
        The account's role, written on every :class:`Render` (for the report).

    Examples
    --------
    With a dashboard served on port 8501:

    >>> async def overview():  # doctest: +SKIP
    ...     async with StreamSession("http://127.0.0.1:8501") as session:
    ...         return await session.open("")
    >>> asyncio.run(overview()).page  # doctest: +SKIP
    'Overview'
    """

    def __init__(self, url: str, headers: dict[str, str] | None = None,
                 timeout: float = 600.0, role: str = "") -> None:
        self.role = role
        self.url = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.headers = headers or {}
        self.timeout = timeout
        self.pages: list[Page] = []
        self.texts: list[str] = []  # every markdown, heading, alert and option text seen
        #: The query string the app last wrote (st.query_params): a browser keeps it in
        #: the address bar and sends it with the next run of the same page (a menu click
        #: to another page sends none).
        self.query_string = ""
        self._current = ""  # the script hash of the page drawn last
        #: The value of every widget of the last run, as the browser holds them
        #: (:func:`widget_state`): sent back with the next request, as a browser does,
        #: so that the sidebar's filters stay what they were.
        self.widgets: dict[str, object] = {}
        self._seen: dict[str, object] = {}
        self._socket = None

    async def __aenter__(self) -> StreamSession:
        import websockets

        # No keep-alive pings: a loaded server answering late must not look disconnected.
        self._socket = await websockets.connect(
            self.url, subprotocols=["streamlit"], additional_headers=self.headers,
            max_size=None, ping_interval=None, open_timeout=self.timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._socket is not None:
            await self._socket.close()

    def title_of(self, script_hash: str) -> str:
        return next((p.title for p in self.pages if p.script_hash == script_hash), script_hash)

    async def open(self, url_path: str, script_hash: str = "") -> Render:
        """Ask for a page and wait until it is rendered: by ``script_hash`` as a click in
        the menu does, else by ``url_path`` (``""``: the default page) as an address does.
        """
        from streamlit.proto.BackMsg_pb2 import BackMsg

        request = BackMsg()
        switching = bool(script_hash) and script_hash != self._current
        request.rerun_script.query_string = "" if switching else self.query_string
        request.rerun_script.page_name = "" if script_hash else url_path
        request.rerun_script.page_script_hash = script_hash
        request.rerun_script.widget_states.widgets.extend(self.widgets.values())
        self._seen = {}
        start = time.perf_counter()
        await self._socket.send(request.SerializeToString())
        render = Render(page=url_path, seconds=math.nan, role=self.role)
        ran = script_hash
        try:
            while True:
                data = await asyncio.wait_for(self._socket.recv(), self.timeout)
                render.received += len(data)
                finished, ran = self._read(data, render, ran)
                if finished:
                    break
        except TimeoutError:
            render.errors.append(f"no script_finished within {self.timeout:g} s")
        except Exception as exc:  # noqa: BLE001  (a dropped socket is an error, reported)
            render.errors.append(f"connection: {type(exc).__name__}: {exc}")
        render.seconds = time.perf_counter() - start
        render.page = self.title_of(ran) if ran else url_path
        self._current = ran
        return render

    def _read(self, data: bytes, render: Render, ran: str) -> tuple[bool, str]:
        """Take one ForwardMsg in; ``(whether the run is over, the page that runs)``."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = ForwardMsg()
        message.ParseFromString(data)
        kind = message.WhichOneof("type")
        if kind == "navigation":  # the menu, and which of its pages this run draws
            self.pages = [Page(p.page_name, p.url_pathname, p.page_script_hash)
                          for p in message.navigation.app_pages]
            ran = message.navigation.page_script_hash or ran
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "page_not_found":
            render.errors.append(f"page not found: {message.page_not_found.page_name!r}")
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            render.elements += 1
            self._element(message.delta.new_element, render)
        elif kind == "script_finished":
            status = message.script_finished
            if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                render.errors.append("the script did not compile")
            # FINISHED_EARLY_FOR_RERUN: the server started the run again (the sign-in
            # does): the page is rendered when the last run finishes.
            over = status != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            if over:  # widgets the run did not draw are gone, as in the browser
                self.widgets = self._seen
            return over, ran
        return False, ran

    def _element(self, element, render: Render) -> None:
        from streamlit.proto.Alert_pb2 import Alert

        kind = element.WhichOneof("type")
        state = widget_state(element, self.widgets)
        if state is not None:
            self._seen[state.id] = state
        if kind == "exception":
            render.errors.append(f"exception {element.exception.type}: "
                                 f"{element.exception.message[:200]}")
        elif kind == "alert":
            self.texts.append(element.alert.body)
            if element.alert.format == Alert.ERROR:
                render.errors.append(f"error message: {element.alert.body[:200]}")
            elif element.alert.format == Alert.WARNING:
                render.warnings.append(element.alert.body[:200])
        elif kind in ("markdown", "heading"):
            self.texts.append(getattr(element, kind).body)
        elif kind in ("selectbox", "multiselect", "radio"):
            self.texts.extend(getattr(element, kind).options)


def widget_state(element, held: dict[str, object]):
    """The ``WidgetState`` a browser sends back for a widget ``element``, else None.

    As Streamlit's frontend does (compared with Chromium's frames): a value the server
    sets (``set_value``: the app wrote it to ``st.session_state``) is taken up; otherwise
    a value already held for that widget stays; a widget nobody set sends nothing, so the
    server uses its default. Buttons send nothing (a click is a trigger), nor do widgets
    the dashboard does not draw (see :data:`_STATEFUL_WIDGETS`). The wire formats are
    those of the widgets' ``serialize`` in ``streamlit/elements/widgets``.

    Examples
    --------
    >>> from streamlit.proto.Element_pb2 import Element
    >>> element = Element()
    >>> element.multiselect.id, element.multiselect.options[:] = "w1", ["F", "M"]
    >>> widget_state(element, {}) is None  # its default: nothing to send
    True
    >>> element.multiselect.set_value, element.multiselect.raw_values[:] = True, ["M"]
    >>> list(widget_state(element, {}).string_array_value.data)
    ['M']
    """
    from streamlit.proto.NumberInput_pb2 import NumberInput
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    kind = element.WhichOneof("type")
    if kind not in _STATEFUL_WIDGETS:
        return None  # not a widget, a button (a click is a trigger), or one left alone
    proto = getattr(element, kind)
    if not proto.set_value:
        return held.get(proto.id)
    state = WidgetState(id=proto.id)
    if kind in ("multiselect", "button_group"):
        state.string_array_value.data[:] = proto.raw_values
    elif kind in ("selectbox", "radio"):
        if not proto.HasField("raw_value"):
            return None  # set to nothing chosen
        state.string_value = proto.raw_value
    elif kind == "date_input":
        state.string_array_value.data[:] = proto.value
    elif kind == "number_input":
        if not proto.HasField("value"):
            return None
        if proto.data_type == NumberInput.INT:
            state.int_value = int(proto.value)
        else:
            state.double_value = proto.value
    elif kind == "checkbox":
        state.bool_value = proto.value
    else:  # text_input, text_area
        state.string_value = proto.value
    return state


#: The widgets whose value :func:`widget_state` sends back; any other (a chart's
#: selection, a table's) is left to the server's state, as the dashboard does not use them.
_STATEFUL_WIDGETS = frozenset({"multiselect", "button_group", "selectbox", "radio",
                               "date_input", "number_input", "checkbox", "text_input",
                               "text_area"})
