"""Tree reads run with a small delta base cache and a heap that keeps freed buffers; blob reads do not.

``sources/gittune.py`` says why (page faults of a 1.3 MB versions tree). The
options only change how git spends memory, so the answers are the ones the
rest of the suite checks; these tests hold *which* git processes get them,
from git's own trace2 events of a real check, since a blob reader with the
small cache is ten times slower.
"""

from __future__ import annotations

import json

from revgraph.gitops import union
from revgraph.sources import gittune
from revgraph.sources.gitref import GitRepo, _tuned
from tests.integration.test_check_rules import (  # noqa: F401
    revgraph,
    rg301_both_sides_touch_one_table,
)

_OPTION = "core.deltaBaseCacheLimit=4m"


def _started(trace) -> list[list[str]]:
    """The argv (after ``git``) of every git process in a trace2 event file."""
    starts = []
    for line in trace.read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "start":
            starts.append(event["argv"][1:])
    return starts


def _subcommand(argv: list[str]) -> str:
    """The git command of an argv: the first word that is not an option (or an option's value)."""
    words = iter(argv)
    for word in words:
        if word == "-c":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return ""


def test_a_checks_tree_reads_are_tuned_and_its_blob_reads_are_not(gitrepo, revgraph, tmp_path, monkeypatch):  # noqa: F811
    rg301_both_sides_touch_one_table(gitrepo, True)
    trace = tmp_path / "trace2.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    run = revgraph(gitrepo, "--no-cache", "check", "--base", "main", "--format", "json")
    assert [f["code"] for f in run.json()["findings"]] == ["RG301"]
    started = [(_subcommand(argv), argv) for argv in _started(trace)]
    tree_reads = [argv for command, argv in started if command in gittune.TREE_READS]
    others = [argv for command, argv in started if command not in gittune.TREE_READS]
    assert {_subcommand(argv) for argv in tree_reads} >= {"ls-tree", "merge-tree"}
    assert all(_OPTION in argv for argv in tree_reads), tree_reads
    assert any(command == "cat-file" for command, _ in started)  # the blob reader ran ...
    assert not any(_OPTION in argv for argv in others), others  # ... without the small cache


def test_only_tree_reads_get_the_allocator_settings(monkeypatch):
    for key in gittune.TREE_READ_ENVIRON:
        monkeypatch.delenv(key, raising=False)
    for args in (("diff-tree", "-r", "a", "b"), ("ls-tree", "-r", "HEAD"), ("merge-tree", "--write-tree", "a", "b")):
        options, environ = _tuned(args, {"GIT_INDEX_FILE": "x"})
        assert options == gittune.TREE_READ_CONFIG
        assert environ.items() >= {**gittune.TREE_READ_ENVIRON, "GIT_OPTIONAL_LOCKS": "0", "GIT_INDEX_FILE": "x"}.items()
    for args in (("cat-file", "--batch"), ("status", "--porcelain"), ("rev-parse", "HEAD"), ()):
        options, environ = _tuned(args, None)
        assert options == ()
        assert not environ.keys() & gittune.TREE_READ_ENVIRON.keys()
        assert environ["GIT_OPTIONAL_LOCKS"] == "0"


def test_the_merge_drivers_tree_batch_is_tuned(gitrepo):
    gitrepo.write("a.txt", "one\n")
    gitrepo.commit("one")
    with GitRepo(gitrepo.path) as repo:
        argv, _, environ = union._tree_batch_call(repo)
        assert argv[-2:] == ["cat-file", "--batch"] and _OPTION in argv
        assert environ.items() >= gittune.TREE_READ_ENVIRON.items()
        # ... and git accepts it: the batch answers a tree request.
        done = repo.git(*argv[argv.index("-c"):], input=b"HEAD^{tree}\n")
        assert done.stdout.split(b" ")[1] == b"tree"
