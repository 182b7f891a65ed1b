"""Data from a branch stays data in every output format (PRODUCT §6, §9).

A revision id, message, branch label, base ref or environment name is written
by whoever opens the pull request. Each test here runs the real CLI on a real
repository holding one such value, and reads the output the way its consumer
does (a Markdown parser, an XML parser, Graphviz, a line-based log reader).
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.hostile.corpus import VERSIONS, revision_text
from tests.support.gitrepo import GitRepo

BASE = "a1a1a1a1a1a1"
SIBLING = "b2b2b2b2b2b2"
# Closes a ```sh fence, ends the <details> block and opens markup of its own.
FENCE_BREAKER = "h\n```\n\n</details>\n\n## INJECTED HEADING\n\n<img src=x onerror=alert(1)>\n\n```sh"


def branch_with(repo: GitRepo, *revisions: tuple[str, str, str]) -> None:
    """``BASE`` on main; on ``feature``, a sibling of it and each ``(revision, file name, message)``."""
    repo.init_env(commit=False)
    repo.write(f"{VERSIONS}/{BASE}_base.py", revision_text(BASE, None, message="base"))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(f"{VERSIONS}/{SIBLING}_sibling.py", revision_text(SIBLING, BASE, message="sibling"))
    for rid, name, message in revisions:
        repo.write(f"{VERSIONS}/{name}", revision_text(rid, BASE, message=message))


def markdown_tokens(text: str):
    from markdown_it import MarkdownIt  # rich's own dependency; GitHub's flavour is a superset

    return MarkdownIt("commonmark").enable("table").parse(text)


# ----------------------------------------------------------------- markdown
def test_a_revision_id_cannot_close_the_fix_commands_fence(gitrepo, cli):
    # QA: the RG403 fix `git mv -- … 'migrations/versions/<id>_h.py'` sat raw in a ```sh
    # fence: an id holding a newline and ``` ended it, and a heading and an <img> followed.
    branch_with(gitrepo, (FENCE_BREAKER, "h.py", "msg"))
    out = cli(gitrepo.path, "check", "--base", "main", "--format", "markdown").out
    tokens = markdown_tokens(out)
    headings = [t for t in tokens if t.type == "heading_open"]
    assert len(headings) == 1, out
    assert not any(t.type == "html_block" and "<img" in t.content for t in tokens), out
    fences = [t for t in tokens if t.type == "fence"]
    assert {t.info for t in fences[:-1]} == {"sh"} and fences[-1].info == "mermaid", out
    # The whole command, in its block.
    assert any("git mv" in t.content and "INJECTED HEADING" in t.content for t in fences), out


def test_a_backtick_in_the_base_branch_name_stays_in_its_code_span(gitrepo, cli):
    # QA: the heading wrote `{base}` between single backticks; a valid branch name
    # holding one ended the span and raw HTML followed.
    branch_with(gitrepo)
    base = "rel`<b>x</b>`"
    gitrepo.git("branch", base, "main")
    out = cli(gitrepo.path, "check", "--base", base, "--format", "markdown").out
    heading = next(t for t in markdown_tokens(out) if t.type == "inline")
    spans = [(c.type, c.content) for c in heading.children if c.type != "text"]
    assert spans == [("code_inline", base)], heading.content


def test_a_revision_id_of_70000_characters_leaves_the_comment_under_githubs_limit(gitrepo, cli):
    branch_with(gitrepo, ("x" + "L" * 70_000, "long.py", "msg"))
    out = cli(gitrepo.path, "check", "--base", "main", "--format", "markdown").out
    assert len(out) <= 65_536
    assert "cut short" in out and "RG101" in out



# -------------------------------------------------------------------- junit
def test_junit_stays_well_formed_with_a_control_character_in_an_environment_name(gitrepo, cli):
    # QA: [tool.revgraph.environments."app\u0001"] gave name="revgraph.app\x01": not XML.
    import xml.etree.ElementTree as ET

    gitrepo.write("pyproject.toml", '[tool.revgraph.environments."app\\u0001"]\nversions = ["one/versions"]\n')
    gitrepo.write(f"one/versions/{BASE}_base.py", revision_text(BASE, None))
    gitrepo.commit("base")
    gitrepo.git("checkout", "-q", "-b", "feature")
    for rid in ("c3c3c3c3c3c3", "d4d4d4d4d4d4"):
        gitrepo.write(f"one/versions/{rid}_x.py", revision_text(rid, BASE))
    outcome = cli(gitrepo.path, "check", "--base", "main", "--format", "junit")
    assert outcome.code == 1, outcome.text
    suite = ET.fromstring(outcome.out).find("testsuite")
    assert suite.get("name") == "revgraph.app\ufffd"
    assert suite.find(".//failure") is not None


# -------------------------------------------------------------------- sarif
def test_sarif_message_text_doubles_the_braces_of_a_syntax_error(gitrepo, cli):
    # QA: "'{' was never closed" reached message.text with a single brace (SARIF §3.11.5).
    import json

    branch_with(gitrepo)
    gitrepo.write(f"{VERSIONS}/c3c3c3c3c3c3_broken.py",
                  'revision = "c3c3c3c3c3c3"\ndown_revision = {0: "a1a1a1a1a1a1"\n')
    log = json.loads(cli(gitrepo.path, "check", "--base", "main", "--format", "sarif").out)
    texts = [result["message"]["text"] for result in log["runs"][0]["results"]]
    assert any("'{{' was never closed" in text for text in texts), texts
    assert not any(re.search(r"(?<!\{)\{(?!\{)|(?<!\})\}(?!\})", text) for text in texts), texts


# ---------------------------------------------------------------------- dot
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_a_20000_character_message_still_draws_as_png(gitrepo, cli, tmp_path):
    # QA: the DOT tooltip carried the whole message; Graphviz refuses a quoted string
    # over 16,384 bytes, so `graph --format png` failed (exit 2).
    branch_with(gitrepo, ("c3c3c3c3c3c3", "c3c3c3c3c3c3_long.py", "M" * 20_000))
    picture = tmp_path / "graph.png"
    outcome = cli(gitrepo.path, "graph", "--base", "main", "--format", "png", "-o", str(picture))
    assert outcome.code == 0, outcome.text
    assert picture.read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------- text
FAKE_VERDICT = "cccc\n\nAll good. no problems in 1 environment\r"


@pytest.mark.parametrize("args", [
    ("check", "--base", "main"),
    ("check", "--base", "main", "-v"),
    ("heads", "-v"),
    ("diff", "main"),
    ("graph", "--base", "main", "--format", "text"),
], ids=["check", "check-v", "heads", "diff", "graph-text"])  # fmt: skip
def test_a_line_break_in_a_revision_id_cannot_start_a_line_of_text_output(gitrepo, cli, args):
    # QA: the id printed raw spilt a fake "All good" line while `check` exited 1.
    branch_with(gitrepo, (FAKE_VERDICT, "c.py", "msg"))
    outcome = cli(gitrepo.path, "--no-color", *args)
    lines = outcome.out.splitlines()
    assert not any(line.startswith("All good.") for line in lines), outcome.out
    assert "cccc\\n\\nAll good. no problems in 1 environment\\r" in outcome.out, outcome.out
    assert "\r" not in outcome.out


@pytest.mark.parametrize("args", [
    ("collisions", "feature", "--base", "main"),
    ("audit", "--ref", "feature"),
], ids=["collisions", "audit"])  # fmt: skip
def test_a_line_break_in_a_committed_revision_id_cannot_start_a_line(gitrepo, cli, args):
    # The same id, committed on a branch, through the commands that read history.
    branch_with(gitrepo, (FAKE_VERDICT, "c.py", "msg"))
    gitrepo.commit("a revision whose id holds line breaks")
    outcome = cli(gitrepo.path, "--no-color", *args)
    assert not any(line.startswith("All good.") for line in outcome.out.splitlines()), outcome.out
    assert "cccc\\n\\nAll good. no problems in 1 environment\\r" in outcome.out, outcome.out
