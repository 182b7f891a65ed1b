"""When revgraph colours its output without --color/--no-color (``entry.color_by_default``)."""

from __future__ import annotations

import io

import pytest

from revgraph.entry import color_by_default


@pytest.fixture
def not_a_terminal(monkeypatch):
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdout", io.StringIO())
    return monkeypatch


def test_off_where_stdout_is_no_terminal(not_a_terminal):
    assert color_by_default() is False


@pytest.mark.parametrize("value", ["1", "true", "3"])
def test_force_color_turns_it_on_anywhere(not_a_terminal, value):
    # A tester: FORCE_COLOR (what CI logs that render colour set) was ignored.
    not_a_terminal.setenv("FORCE_COLOR", value)
    assert color_by_default() is True


@pytest.mark.parametrize("value", ["0", "false", ""])
def test_force_color_off_or_empty_forces_nothing(not_a_terminal, value):
    not_a_terminal.setenv("FORCE_COLOR", value)
    assert color_by_default() is False


def test_no_color_wins_over_force_color(not_a_terminal):
    not_a_terminal.setenv("FORCE_COLOR", "1")
    not_a_terminal.setenv("NO_COLOR", "1")
    assert color_by_default() is False
