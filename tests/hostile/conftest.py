"""Fixtures the hostile tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.corpus import run_in_process, tracebacks


@pytest.fixture
def cli(git_env, capsys):
    """``cli(path, *args)``: revgraph in-process with ``-C path``; never a traceback."""

    def go(path: Path, *args: str):
        outcome = run_in_process(capsys, "-C", str(path), *args)
        assert not tracebacks(outcome.text), outcome.text
        return outcome

    return go
