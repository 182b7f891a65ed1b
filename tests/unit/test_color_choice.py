"""Colour without --color/--no-color: on a terminal, unless NO_COLOR is set or TERM=dumb.

The full CLI (``entry.State``) and the fast check (``resultcache._use_color``)
decide it alike; an explicit --color still wins.
"""

from __future__ import annotations

import io
import sys

import pytest

from revgraph import resultcache
from revgraph.entry import State


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "flag", "expected"),
    [
        ({"TERM": "xterm-256color"}, None, True),
        ({"TERM": "dumb"}, None, False),
        ({"TERM": "xterm", "NO_COLOR": "1"}, None, False),
        ({"TERM": "dumb"}, True, True),  # --color
        ({"TERM": "xterm"}, False, False),  # --no-color
    ],
)
def test_colour_on_a_terminal(monkeypatch, env, flag, expected):
    monkeypatch.setattr(sys, "stdout", Terminal())
    for name in ("TERM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    st = State()
    st.color = flag
    assert st.use_color is expected
    assert resultcache._use_color({"color": flag}) is expected
