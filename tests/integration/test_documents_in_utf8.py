"""Machine formats reach stdout as UTF-8 whatever the locale makes of stdout.

A tester: with ``PYTHONIOENCODING=ascii`` (or latin-1), a file named ``été``
came out of ``check -f json`` as ``\\xe9`` (JSON that does not parse), of
``-f github`` as an annotation on another file, and of ``-f junit`` as
latin-1 bytes under an XML declaration of UTF-8. Text for people keeps the
stream's encoding. The real CLI on a real repository, cold and from the cache.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree

import pytest

ROOT, MID, HERS = "aaaa00000001", "bbbb00000002", "cccc00000003"
NAME = "migrations/versions/cccc00000003_été.py"


@pytest.fixture
def repo(gitrepo):
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="root")
    gitrepo.add_revision(MID, ROOT, message="mid")
    gitrepo.commit("history")
    gitrepo.write(NAME, f'revision = "{HERS}"\ndown_revision = "{ROOT}"\n')  # a second head
    return gitrepo


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_json_sarif_junit_and_github_are_utf8_on_a_stdout_that_is_not(repo, encoding):
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    for _ in range(2):  # cold, then answered from the result cache
        found = {
            fmt: repo.run("check", "--base", "main", "-f", fmt, check=1, env=env).stdout
            for fmt in ("json", "sarif", "junit", "github")
        }
        paths = [loc["path"] for f in json.loads(found["json"])["findings"] for loc in f["locations"]]
        assert NAME in paths
        sarif = json.loads(found["sarif"])
        assert any("cccc00000003_%C3%A9t%C3%A9.py" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                   for r in sarif["runs"][0]["results"] if r.get("locations"))  # fmt: skip
        assert NAME in found["junit"] and "\ufffd" not in found["junit"]
        ElementTree.fromstring(found["junit"].encode("utf-8"))
        assert f"file={NAME}," in found["github"]
