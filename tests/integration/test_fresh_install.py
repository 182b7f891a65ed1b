"""The README's promise to a new user: its first line installs revgraph and runs the demo.

Runs ``scripts/fresh_install_check.sh``: a ``git clone`` of this repository
(committed files only), a new virtualenv (``--system-site-packages``, so the
dependencies already installed are reused), then the README's first line
exactly, in that virtualenv.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepo import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "fresh_install_check.sh"
SKIP = 77  # the script's "no virtualenv can be created here"


def readme_lines() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M)
    assert block, "README.md must start with a code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_the_install_line_and_the_ci_test_line():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("```"), "the two lines come first, before any title"
    first, second = readme_lines()
    assert first == "python3 -m pip install . && revgraph demo"
    assert second == "python3 -m pip install -e '.[test]' && python3 -m pytest -q"
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci.splitlines(), ".ci/run must run the README's second line verbatim"


@pytest.mark.slow
def test_readme_first_line_installs_and_the_demo_ends_clean_in_a_fresh_clone(tmp_path: Path):
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX"))}
    env.update(PYTHON=sys.executable, PYTHONIOENCODING="utf-8", NO_COLOR="1")

    done = subprocess.run(
        ["bash", str(SCRIPT), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=900,
        check=False,
    )

    output = done.stdout + done.stderr
    if done.returncode == SKIP:
        pytest.skip(f"no virtualenv can be created here: {done.stderr.strip()}")
    assert done.returncode == 0, output[-6000:]
    assert f"running README line 1: {readme_lines()[0]}" in done.stdout
    assert "clean: one head per line" in done.stdout
    assert "demo complete: every step came out as expected" in done.stdout
    assert "revgraph ran from the new virtualenv" in done.stdout
    assert (tmp_path / "venv").is_dir() and (tmp_path / "clone" / "README.md").is_file()
