"""Turn an HTML mail body into readable plain text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Content that is never shown to a reader.
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "object"})
# Elements that may appear in <head>; any other start tag ends a head left unclosed, as browsers
# do, so that a missing </head> does not swallow the whole body.
_HEAD_CONTENT = frozenset({"title", "meta", "link", "style", "script", "base", "noscript"})
# Blocks separated by a blank line, and blocks that only start a new line.
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dl", "table"}
    | {"hr", "address", "figure", "form", "fieldset", "article", "section", "aside", "nav"}
    | {"header", "footer", "main"}
)
_LINE = frozenset(
    {"div", "li", "tr", "dt", "dd", "caption", "figcaption", "center", "details", "summary"}
    | {"body", "html", "legend", "option"}
)
_CELL = frozenset({"td", "th"})
_LISTS = frozenset({"ul", "ol", "menu"})

# Whitespace that HTML collapses; U+3000 (ideographic space) is kept because Chinese text
# indents paragraphs with it.
_SPACE = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")
_SCHEME = re.compile(r"^(?:mailto:|https?://)", re.IGNORECASE)
# Lists nested deeper than this are indented no further: an indent per level would make the
# text of a hostile message grow with the square of its nesting.
_MAX_INDENT = 10
# A link's text longer than its address by more than this cannot be the same address written
# out ("example.com" for https://example.com/), so it is not read back to compare.
_LABEL_SLACK = 64


def html_to_text(html: str) -> str:
    """Plain text of ``html``: no markup, line breaks where the blocks were, links kept."""
    parser = _TextParser()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:
        # html.parser asserts on a few pathological declarations; keep what was read so far.
        pass
    return parser.text()


def _same_target(href: str, text: str) -> bool:
    def norm(s: str) -> str:
        return _SCHEME.sub("", s.strip()).rstrip("/").lower()

    return norm(href) == norm(text)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._pending = 0  # newlines owed before the next text
        self._trailing = 2  # newlines at the end of _out; 2 at the start: nothing to separate
        self._line_start = True
        self._hidden: list[str] = []  # open hidden elements
        self._hidden_count: dict[str, int] = {}  # how many of each are open (no list scans)
        self._in_head = False
        self._pre = 0
        self._lists = 0
        # (href, index in _out and characters written when its text started); nested links
        # are read back only as far as needed, so closing them costs no more than their text.
        self._links: list[tuple[str, int, int, int]] = []
        self._chars = 0  # characters in _out
        self._words = 0  # pieces of _out with something other than spaces and line breaks

    def text(self) -> str:
        joined = "".join(self._out)
        lines = [line.rstrip(" ") for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n ")

    def _emit(self, text: str, *, raw: bool = False) -> None:
        if not text:
            return
        if self._pending > self._trailing:
            self._out.append("\n" * (self._pending - self._trailing))
            self._chars += self._pending - self._trailing
            self._trailing = self._pending
            self._line_start = True
        self._pending = 0
        if self._line_start and not raw and not self._pre:
            # Leading spaces of a line come from source indentation, not from the text.
            text = text.lstrip(" ")
            if not text:
                return
        self._out.append(text)
        self._chars += len(text)
        if text.strip():
            self._words += 1
        stripped = text.rstrip("\n")
        if not stripped:
            self._trailing += len(text)
        else:
            self._trailing = len(text) - len(stripped)
        self._line_start = raw or text.endswith("\n")

    def _break(self, newlines: int) -> None:
        self._pending = max(self._pending, newlines)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in_head and tag not in _HEAD_CONTENT:
            self._close_head()
        if tag == "head":
            self._in_head = True
        if tag in _HIDDEN and tag != "head":
            self._hidden.append(tag)
            self._hidden_count[tag] = self._hidden_count.get(tag, 0) + 1
        if self._hidden or self._in_head:
            return
        if tag == "br":
            self._emit("\n", raw=True)
        elif tag in _LISTS:
            # A list is a paragraph of its own; a nested list just starts a new line.
            self._break(1 if self._lists else 2)
            self._lists += 1
        elif tag in _PARAGRAPH:
            self._break(2)
            if tag == "pre":
                self._pre += 1
        elif tag == "li":
            self._break(1)
            self._emit("  " * min(max(self._lists - 1, 0), _MAX_INDENT) + "- ", raw=True)
        elif tag in _LINE:
            self._break(1)
        elif tag in _CELL:
            self._emit(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._links.append((href, len(self._out), self._chars, self._words))
        elif tag == "img":
            alt = _SPACE.sub(" ", dict(attrs).get("alt") or "").strip()
            if alt:
                self._emit(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <img/>, <hr/>: there is no end tag to wait for.
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr", "meta", "link", "base"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._close_head()
            return
        if tag in _HIDDEN:
            if self._hidden_count.get(tag):
                # Unwind to the matching start tag; stray end tags are ignored.
                while self._hidden:
                    opened = self._hidden.pop()
                    self._hidden_count[opened] -= 1
                    if opened == tag:
                        break
            return
        if self._hidden or self._in_head:
            return
        if tag in _LISTS:
            self._lists = max(self._lists - 1, 0)
            self._break(1 if self._lists else 2)
        elif tag in _PARAGRAPH:
            self._break(2)
            if tag == "pre" and self._pre:
                self._pre -= 1
        elif tag in _LINE:
            self._break(1)
        elif tag == "a" and self._links:
            self._end_link()

    def _close_head(self) -> None:
        self._in_head = False
        self._hidden.clear()
        self._hidden_count.clear()

    def _end_link(self) -> None:
        href, start, chars, words = self._links.pop()
        href = href.strip()
        if not href or href.startswith("#") or href.lower().startswith("javascript:"):
            return
        if self._words == words:
            return  # no text: an image link or an empty anchor
        if self._chars - chars > len(href) + _LABEL_SLACK:
            label_differs = True  # too long to be the address written out
        else:
            label = "".join(self._out[start:]).strip()
            label_differs = not _same_target(href, label)
        if label_differs:
            self._emit(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self._hidden or self._in_head:
            return
        if self._pre:
            self._emit(data.replace("\r\n", "\n").replace("\r", "\n"))
        else:
            self._emit(_SPACE.sub(" ", data))
