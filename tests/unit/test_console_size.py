"""``COLUMNS=0`` (or ``²``) counts as unset: rich would print nothing (or crash) in such a width.

Every console revgraph makes (the renderers', ``entry.State``'s, typer's help
through ``cli.run_app``) then takes the terminal's width, else 80.
"""

from __future__ import annotations

import os

import pytest

from revgraph import cli
from revgraph.entry import State
from revgraph.render.report_text import render_rule_text, render_rules_text
from revgraph.rules import RULES


@pytest.fixture
def no_terminal(monkeypatch):
    def not_a_terminal(fd=1):
        raise OSError("not a terminal")

    monkeypatch.setattr(os, "get_terminal_size", not_a_terminal)


@pytest.mark.parametrize("columns", ["0", "00", "²"])
def test_a_width_rich_cannot_use_renders_as_80_columns(monkeypatch, no_terminal, columns):
    monkeypatch.setenv("COLUMNS", "80")
    expected = render_rules_text(list(RULES.values())), render_rule_text(RULES["RG101"])
    monkeypatch.setenv("COLUMNS", columns)
    assert (render_rules_text(list(RULES.values())), render_rule_text(RULES["RG101"])) == expected
    assert "RG101" in expected[0]


def test_the_cli_consoles_print_with_columns_0(monkeypatch, no_terminal, capsys):
    monkeypatch.setenv("COLUMNS", "0")
    st = State()
    st.color = False
    st.console.print("no revision changes")  # as `revgraph diff` prints
    assert capsys.readouterr().out == "no revision changes\n"
    assert cli.run_app(["--help"]) == 0  # typer's own console
    assert "Usage" in capsys.readouterr().out
    assert os.environ["COLUMNS"] == "0"  # left as it was
