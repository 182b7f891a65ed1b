"""`revgraph diff` names the files it could not read, in either snapshot.

Found on a real project: a branch added a revision file with a syntax error
and `diff main` listed the branch's other revisions, exit 0, nothing on
stderr, while `heads`, `graph` and `collisions` warned about the file and
`check` reported it as RG107. A diff that leaves a file out silently reads as
complete. And a file that became unreadable is not a removed revision (nor,
the other way round, an added one): nobody can tell from its bytes.

The real CLI in a subprocess, on a real git repository.
"""

from __future__ import annotations

import json

ROOT, MID, NEW, BROKEN = "aaaa00000001", "bbbb00000002", "cccc00000003", "dddd00000004"
REASON = "syntax error: '(' was never closed"


def _break(gitrepo, path: str, parent: str) -> int:
    """Leave ``down_revision``'s tuple unclosed; returns the line the reader will name."""
    text = gitrepo.read(path).decode()
    broken = text.replace(f"= {parent!r}", f"= ({parent!r}")
    assert broken != text
    gitrepo.write(path, broken)
    (line,) = [n for n, s in enumerate(broken.splitlines(), 1) if s.startswith("down_revision")]
    return line


def _repo(gitrepo):
    """main: ROOT <- MID. feature: adds NEW (fine) and BROKEN, and breaks MID's file."""
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="root")
    mid = gitrepo.add_revision(MID, ROOT, message="mid")
    gitrepo.commit("history")
    gitrepo.git("checkout", "-q", "-b", "feature")
    gitrepo.add_revision(NEW, MID, message="new")
    broken = gitrepo.add_revision(BROKEN, NEW, message="broken")
    lines = {broken: _break(gitrepo, broken, NEW), mid: _break(gitrepo, mid, ROOT)}
    gitrepo.commit("feature work, two files unreadable")
    return mid, broken, lines


def test_diff_names_a_file_the_newer_snapshot_cannot_read_and_exits_1(gitrepo):
    mid, broken, lines = _repo(gitrepo)

    for args in (("main", "feature"), ("main",)):  # a ref, and the working tree
        text = gitrepo.run("diff", *args, check=1)
        out = text.stdout
        assert f"+ {NEW} added" in out
        for path in (mid, broken):
            # RG107's wording: path:line: cannot be read statically: reason
            assert f"{path}:{lines[path]}: cannot be read statically: {REASON}" in out
        # MID's file is still there, unreadable: not a removed revision.
        assert not [line for line in out.splitlines() if line.startswith("-")]
        (mid_line,) = [line for line in out.splitlines() if mid in line]
        assert MID in mid_line and "not listed as removed" in mid_line

        run = gitrepo.run("diff", *args, "--format", "json", check=1)
        (env,) = json.loads(run.stdout)["environments"]
        # The existing keys keep their meaning: only what was read is listed.
        assert env["added"] == [NEW]
        assert env["removed"] == env["edited"] == env["repointed"] == env["duplicated"] == []
        assert sorted(env["unreadable"], key=lambda u: u["path"]) == sorted(
            [
                {"path": broken, "line": lines[broken], "reason": REASON, "in": ["head"], "revision": None},
                {"path": mid, "line": lines[mid], "reason": REASON, "in": ["head"], "revision": MID},
            ],
            key=lambda u: u["path"],
        )


def test_diff_names_a_file_the_older_snapshot_cannot_read(gitrepo):
    mid, broken, lines = _repo(gitrepo)

    run = gitrepo.run("diff", "feature", "main", "--format", "json", check=1)
    (env,) = json.loads(run.stdout)["environments"]
    # MID is readable in main but not in feature: not an added revision.
    assert env["added"] == [] and env["removed"] == [NEW]
    assert {(u["path"], tuple(u["in"]), u["revision"]) for u in env["unreadable"]} == {
        (broken, ("base",), None),
        (mid, ("base",), MID),
    }
    text = gitrepo.run("diff", "feature", "main", check=1).stdout
    assert not [line for line in text.splitlines() if line.startswith("+")]
    (mid_line,) = [line for line in text.splitlines() if mid in line]
    assert f"(in feature; main reads {MID} from it, so it is not listed as added)" in mid_line


def test_diff_of_a_snapshot_with_itself_still_names_its_unreadable_files(gitrepo):
    mid, broken, lines = _repo(gitrepo)

    # Listed, but nothing changed: `diff X X` is not a failure (review).
    run = gitrepo.run("diff", "feature", "feature", "--format", "json", check=0)
    (env,) = json.loads(run.stdout)["environments"]
    assert {(u["path"], tuple(u["in"])) for u in env["unreadable"]} == {
        (broken, ("base", "head")),
        (mid, ("base", "head")),
    }
    text = gitrepo.run("diff", "feature", "feature", check=0).stdout
    # Not "no revision changes": what those files hold is unknown.
    assert "no revision changes" not in text


def test_diff_without_unreadable_files_exits_0_with_an_empty_list(gitrepo):
    _repo(gitrepo)
    run = gitrepo.run("diff", "main", "main", "--format", "json", check=0)
    (env,) = json.loads(run.stdout)["environments"]
    assert env["unreadable"] == []
    assert gitrepo.run("diff", "main", "main", check=0).stdout.strip() == "no revision changes"


def test_the_index_names_a_revision_file_git_holds_in_conflict(gitrepo):
    # QA: mid-merge, `diff HEAD :` said the conflicted revision was removed and
    # `heads --ref :` showed its parent as head, both without a word about it.
    gitrepo.init_env()
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="root")
    path = gitrepo.add_revision("b2b2b2b2b2b2", "a1a1a1a1a1a1", message="next", body='op.drop_table("x")')
    gitrepo.commit("two revisions")
    gitrepo.branch("other")
    gitrepo.write(path, gitrepo.read(path).replace(b'"x"', b'"on_main"'))
    gitrepo.commit("main edits")
    gitrepo.checkout("other")
    gitrepo.write(path, gitrepo.read(path).replace(b'"x"', b'"on_other"'))
    gitrepo.commit("other edits")
    gitrepo.checkout("main")
    gitrepo.merge("other", expect_conflict=True)

    heads = gitrepo.run("heads", "--ref", ":", check=True)
    assert f"warning: {path}:1: unmerged in the index (a git conflict)" in heads.stderr
    diff = gitrepo.run("diff", "HEAD", ":", "--format", "json")
    assert diff.returncode == 1, diff.stdout + diff.stderr
    report = json.loads(diff.stdout)
    assert "b2b2b2b2b2b2" not in json.dumps(report.get("removed", []))
    assert path in diff.stdout and "unmerged in the index" in diff.stdout
