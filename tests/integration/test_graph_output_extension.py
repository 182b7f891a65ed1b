"""`revgraph graph -o FILE` takes the format from FILE's extension (PRODUCT §2 `graph`).

Without ``--format``, ``-o graph.png`` used to write the text tree into
graph.png and exit 0. The extension now picks the format; a ``--format`` that
contradicts a known extension is refused (exit 2, one line, no traceback)
rather than writing a file its name lies about.
"""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET

import pytest

from tests.support.gitrepo import GitRepo

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")


@pytest.fixture
def repo(gitrepo: GitRepo) -> GitRepo:
    gitrepo.init_env()
    gitrepo.add_revision("aaa000000001", None, message="create users")
    gitrepo.add_revision("aaa000000002", "aaa000000001", message="add email")
    gitrepo.commit("two revisions")
    return gitrepo


def write(repo: GitRepo, name: str, *args: str) -> bytes:
    done = repo.run("graph", "-o", name, *args)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return repo.read(name)


def assert_tree(data: bytes) -> None:
    text = data.decode()
    assert "*  aaa000000002 add email [head]" in text
    assert "legend:" in text


@pytest.mark.parametrize(
    "name, check",
    [
        ("graph.svg", lambda d: ET.fromstring(d).tag == "{http://www.w3.org/2000/svg}svg"),
        ("graph.SVG", lambda d: ET.fromstring(d).tag == "{http://www.w3.org/2000/svg}svg"),
        ("graph.html", lambda d: d.lstrip().lower().startswith(b"<!doctype html")),
        ("graph.htm", lambda d: d.lstrip().lower().startswith(b"<!doctype html")),
        ("graph.dot", lambda d: b"digraph" in d and b"*  " not in d),
        ("graph.gv", lambda d: b"digraph" in d and b"*  " not in d),
        ("graph.mmd", lambda d: b"flowchart BT" in d and b"*  " not in d),
        ("graph.mermaid", lambda d: b"flowchart BT" in d and b"*  " not in d),
        ("graph.json", lambda d: json.loads(d)["directed"] is True),
    ],
)
def test_the_extension_of_o_picks_the_format(repo, name, check):
    data = write(repo, name)
    assert b"aaa000000002" in data
    assert check(data), data[:200]


@pytest.mark.parametrize("name", ["graph.txt", "graph", "graph.out"])
def test_a_text_unknown_or_missing_extension_writes_the_tree(repo, name):
    assert_tree(write(repo, name))


@needs_dot
def test_o_graph_png_writes_a_png(repo):
    assert write(repo, "graph.png").startswith(b"\x89PNG\r\n\x1a\n")


def test_o_graph_png_without_graphviz_says_so_and_writes_nothing(repo, tmp_path):
    # A PATH with git but no `dot`: the error PNG output always gave.
    bin_dir = tmp_path / "bin-without-dot"
    bin_dir.mkdir()
    os.symlink(shutil.which("git"), bin_dir / "git")
    env = {**repo.env, "PATH": str(bin_dir)} if repo.env else {**os.environ, "PATH": str(bin_dir)}
    done = repo.run("graph", "-o", "graph.png", env=env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "needs Graphviz" in done.stderr
    assert not (repo.path / "graph.png").exists()


@pytest.mark.parametrize(
    "name, fmt",
    [("graph.svg", "svg"), ("graph.json", "json"), ("graph.dot", "dot"), ("graph.txt", "tree"),
     ("graph.txt", "text"), ("graph.txt", "mermaid"), ("graph.out", "json"), ("graph", "mermaid")],
)
def test_a_format_that_agrees_with_the_extension_or_an_unknown_one_is_taken(repo, name, fmt):
    data = write(repo, name, "--format", fmt)
    if fmt == "json":
        assert json.loads(data)["directed"] is True
    elif fmt in ("tree", "text"):
        assert_tree(data)
    elif fmt == "mermaid":
        assert b"flowchart BT" in data and b"*  " not in data


@pytest.mark.parametrize(
    "name, fmt",
    [("graph.png", "tree"), ("graph.svg", "json"), ("graph.html", "svg"), ("graph.json", "mermaid"),
     ("graph.mmd", "dot"), ("graph.gv", "png")],
)
def test_a_format_that_contradicts_the_extension_is_refused(repo, name, fmt):
    done = repo.run("graph", "--format", fmt, "-o", name)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert name in lines[0] and fmt in lines[0]
    assert not (repo.path / name).exists()


def test_the_help_says_the_extension_picks_the_format(repo):
    done = repo.run("graph", "--help", env={**(repo.env or os.environ), "COLUMNS": "200"})
    assert done.returncode == 0
    assert "extension" in done.stdout


def test_o_dash_is_stdout_for_graph_and_check_and_graph_then_needs_format(repo):
    done = repo.run("graph", "-o", "-", "--format", "mermaid")
    assert done.returncode == 0 and "flowchart BT" in done.stdout, done.stderr
    done = repo.run("check", "-o", "-", "--format", "json")
    assert done.returncode == 0 and json.loads(done.stdout)["ok"] is True, done.stderr
    done = repo.run("graph", "-o", "-")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--format" in done.stderr.splitlines()[0] and done.stdout == ""
    assert not (repo.path / "-").exists()
