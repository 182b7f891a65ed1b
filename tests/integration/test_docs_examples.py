"""Every ``[tool.revgraph]`` example in the docs is a configuration revgraph accepts.

A reader pastes these blocks into a pyproject.toml; one once had ``%(year)d``
where alembic (and revgraph) want ``%%(year)d``. Each block is loaded in a
project that has the folders and the alembic.ini sections it names, and
``revgraph heads`` must run without an error or a warning about the config.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import REPO_ROOT
from tests.support.gitrepo import run_module

DOCS = sorted((REPO_ROOT / "docs").glob("*.md")) + [REPO_ROOT / "README.md"]
BLOCKS = [
    pytest.param(block, id=f"{path.name}-{n}")
    for path in DOCS
    for n, block in enumerate(re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), re.S))
    if "[tool.revgraph" in block
]
FOLDER_KEYS = re.compile(r'^(?:script_location|version_locations|versions)\s*=\s*(.+)$', re.M)


def test_the_docs_have_examples_to_check():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS)
def test_a_documented_configuration_loads(tmp_path: Path, block: str):
    (tmp_path / "pyproject.toml").write_text(block, encoding="utf-8")
    sections = re.findall(r'^section\s*=\s*"([^"]+)"', block, re.M)
    ini = "[alembic]\nscript_location = migrations\npath_separator = os\n"
    ini += "".join(f"\n[{name}]\nscript_location = {name}/migrations\npath_separator = os\n" for name in sections)
    (tmp_path / "alembic.ini").write_text(ini, encoding="utf-8")
    folders = ["migrations/versions", *(f"{name}/migrations/versions" for name in sections)]
    for value in FOLDER_KEYS.findall(block):
        folders += re.findall(r'"([^"]+)"', value.split("#")[0])
    for folder in folders:
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "a1_start.py").write_text('revision = "a1"\ndown_revision = None\n', encoding="utf-8")
    done = run_module("revgraph", "heads", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "a1" in done.stdout
