"""Text a terminal shows but does not obey: control characters as U+FFFD.

Revision ids, messages, branch labels and paths come from files and refs
anyone can write. Printed raw, an escape sequence in one of them clears the
screen, retitles the window or colours what follows (``\\x1b[2J``); bidi
controls reorder what the reader sees. The picture formats replace them
already (``graphview.printable``); this does it for everything a rich console
prints, after rich has laid the text out, so widths and styles stay its own.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

# C0 but tab and newline, DEL, C1, and the bidi embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# What ends a line for a terminal, a log viewer or str.splitlines, and that
# inert leaves (or turns into U+FFFD, which still keeps the line whole).
_BREAKS = {"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_BREAK = re.compile("[\n\r\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with its line breaks written as escapes (``\\n``), as markdown's code spans show them.

    For data in a line of text output (an id, a path, an environment name): a
    revision id "c\\n\\nAll good" printed raw started a line of its own that
    read like revgraph's verdict. The layout's own newlines are added after.
    """
    return _BREAK.sub(lambda match: _BREAKS[match.group()], text)


def inert(text: str) -> str:
    """``text`` with every control character a terminal would act on as U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def make_inert(console: Console) -> Console:
    """``console``, from now on printing control characters of its text as U+FFFD.

    rich's own control codes (colours, cursor moves) are segments of their own
    and pass as they are.
    """
    from rich.console import RenderHook

    class _Hook(RenderHook):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            return [_Inert(renderable) for renderable in renderables]

    console.push_render_hook(_Hook())
    return console


class _Inert:
    """A renderable whose text segments are made inert (``make_inert``)."""

    def __init__(self, renderable: Any) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        segments: Iterable[Segment] = console.render(self.renderable, options)
        for segment in segments:
            if segment.control is None and _CONTROL.search(segment.text):
                yield Segment(inert(segment.text), segment.style)
            else:
                yield segment
