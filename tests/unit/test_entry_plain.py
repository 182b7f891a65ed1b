"""``entry.plain_line``: a line it lets through is printed exactly as rich would print it.

``revgraph heads`` writes such lines itself instead of importing rich; the
reference is rich's Console configured as ``entry.State`` configures it
without colour (not a terminal, no colour, no highlighting, soft wrap, control
characters shown as U+FFFD: ``render.inert``).
"""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from revgraph.entry import State, plain_line
from revgraph.render.inert import make_inert, one_line

pytestmark = pytest.mark.skipif(os.name == "nt", reason="plain lines are POSIX-only")

# Printable ASCII with the characters rich treats specially overrepresented,
# plus what must never pass: tabs, control codes, non-ASCII.
TRICKY = ":[]\\/()_-. "
alphabet = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from(list(TRICKY)),
    st.sampled_from(["\t", "\r", "\x07", "\x1b", "\x7f", "\x0b", "é", "\u200b", "😀", "\udce9"]),
)
texts = st.one_of(
    st.text(alphabet, max_size=40),
    # long lines: soft wrap must not wrap them at the console width
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=150, max_size=400),
    st.sampled_from([":smile:", "a :smile: b", "x:thumbs_up:", "[bold]x[/bold]", "[red]", "\\[x]",
                     "warning: path:12: reason", ":", "a:b", "  (no revisions)", " trailing  "]),
)


def rich_prints(text: str, *, markup: bool) -> str:
    from rich.console import Console

    out = io.StringIO()
    console = make_inert(Console(file=out, force_terminal=False, no_color=True, highlight=False, emoji=False, soft_wrap=True))
    if markup:
        from rich.markup import escape

        console.print(f"[bold]{escape(text)}[/bold]")
    else:
        console.print(text, markup=False)
    return out.getvalue()


@given(texts, st.booleans())
@example(":smile:", False)
@example("[b]x", True)
@example("a" * 300, False)
def test_a_plain_line_is_what_rich_prints(text, markup):
    if plain_line(text, markup=markup):
        assert rich_prints(text, markup=markup) == text + "\n"


def test_everyday_lines_are_plain():
    for line in ("73dfad0cabfc (reporting) (head)", "eec94cc672fc (head)", "(no revisions)",
                 "warning: versions folder migrations/versions does not exist (environment default)",
                 "abc (head)  migrations/versions/abc_x.py  reporting: add region"):  # fmt: skip
        assert plain_line(line)
    assert plain_line("shop", markup=True)
    assert plain_line("copy:cat:.py")  # the console prints emoji codes as they are


def test_lines_rich_would_change_are_not_plain():
    assert not plain_line("a\tb")
    assert not plain_line("caf\u00e9")
    assert not plain_line("[x]", markup=True)


def rich_prints_styled(text: str) -> str:
    from rich.console import Console

    out = io.StringIO()
    console = make_inert(Console(file=out, force_terminal=False, no_color=True, highlight=False, emoji=False, soft_wrap=True))
    console.print(text, markup=False, style="bold")
    return out.getvalue()


@given(texts, st.booleans(), st.booleans())
@example("env[/]", False, True)
@example("[bold]x[/bold]", True, True)
@example("0" * 140 + "\\[000000", False, True)  # markup would eat the backslash
def test_say_prints_what_the_console_prints(text, err, styled):
    """``State.say`` without colour, plain or not, against the console it stands for
    (the text is never read as markup: ``a[/]`` is a name, not a closing tag)."""
    import contextlib

    state = State()
    state.color = False
    out, errout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(errout):
        state.say(text, err=err, style="bold" if styled else None)
    shown = one_line(text)  # one line: say shows a line break in an id escaped
    expected = rich_prints_styled(shown) if styled else rich_prints(shown, markup=False)
    assert (errout if err else out).getvalue() == expected
    if styled:
        assert expected == rich_prints(shown, markup=False)  # a style only colours the text
    assert (out if err else errout).getvalue() == ""
