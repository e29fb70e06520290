"""What a person sees of an HTML page: its tags and its text, scripts and styles left out."""

from __future__ import annotations

from html.parser import HTMLParser


class HtmlDocument(HTMLParser):
    """Feed a page; then ``tags`` holds every tag used and ``text`` the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
