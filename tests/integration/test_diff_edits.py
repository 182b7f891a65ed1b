"""`revgraph diff` on edits: how much changed, and ids that look like rich markup.

Found by a tester: diff called a comment added to a landed revision "edited"
with nothing more, where check and audit (which judge what a change does)
say nothing; and a revision id holding ``[/red]`` crashed the text output
("internal error: MarkupError"). The real CLI on a real repository.
"""

from __future__ import annotations

import json

import pytest

ROOT, MID = "aaaa00000001", "bbbb00000002"


def test_diff_says_an_edit_is_cosmetic_when_only_comments_or_layout_changed(gitrepo):
    gitrepo.init_env()
    root = gitrepo.add_revision(ROOT, None, message="root")
    mid = gitrepo.add_revision(MID, ROOT, message="mid")
    gitrepo.commit("history")
    gitrepo.write(root, gitrepo.read(root) + b"# a comment, nothing more\n")
    gitrepo.write(mid, gitrepo.read(mid).replace(b"def upgrade()", b"def upgrade()  ") + b"\nX = 1\n")
    gitrepo.commit("a comment on one, code on the other")

    text = gitrepo.run("diff", "HEAD~1", "HEAD", check=True).stdout
    data = json.loads(gitrepo.run("diff", "HEAD~1", "HEAD", "-f", "json", check=True).stdout)

    assert f"~ {ROOT} edited (comments, docstrings or layout only)" in text
    assert f"~ {MID} edited\n" in text
    [env] = data["environments"]
    assert env["edited"] == [ROOT, MID] and env["cosmetic"] == [ROOT]


def test_diff_does_not_call_an_id_declared_twice_cosmetic_when_one_file_has_a_code_edit(gitrepo):
    # Review: the {id: revision} map compared the last file only; the code edit in
    # the other file of the same id was reported "comments, docstrings or layout only".
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="root")
    body = "\n\ndef upgrade():\n    pass\n"
    for name in ("p1", "p2"):
        gitrepo.write(f"migrations/versions/{name}.py", f'"""{name}"""\nrevision = "dupe"\ndown_revision = "{ROOT}"\n{body}')
    gitrepo.commit("one id, two files")
    p1 = gitrepo.read("migrations/versions/p1.py")
    gitrepo.write("migrations/versions/p1.py", p1.replace(b"    pass", b'    op.drop_table("users")'))
    gitrepo.write("migrations/versions/p2.py", gitrepo.read("migrations/versions/p2.py") + b"# a comment\n")

    text = gitrepo.run("diff", "HEAD").stdout
    data = json.loads(gitrepo.run("diff", "HEAD", "-f", "json").stdout)

    [env] = data["environments"]
    assert "dupe" in env["edited"] and env["cosmetic"] == []
    assert "dupe edited (comments" not in text


@pytest.mark.parametrize(
    ("path", "rid", "shown"),
    [
        ("migrations/versions/x.py", "a[/red]b[bold]", "a[/red]b[bold]"),  # crashed: MarkupError
        ("migrations/versions/copy:cat:.py", ROOT, "copy:cat:.py"),  # review: printed as an emoji
    ],
    ids=["an id like rich markup", "a path holding an emoji code"],
)
def test_diff_prints_ids_and_paths_as_they_are(gitrepo, path, rid, shown):
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="root")
    gitrepo.commit("root")
    down = "None" if rid == ROOT else f'"{ROOT}"'
    gitrepo.write(path, f'"""x"""\nrevision = "{rid}"\ndown_revision = {down}\n')

    for color in ("--no-color", "--color"):
        done = gitrepo.run(color, "diff", "HEAD")
        assert done.returncode == 0, done.stdout + done.stderr
        assert shown in done.stdout and "internal error" not in done.stderr


def test_diff_sees_a_code_edit_in_either_file_of_an_id_declared_twice(gitrepo):
    # Review: `edited` compared the last file of each id only; an edit to the other was invisible.
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="root")
    mid = gitrepo.add_revision(MID, ROOT, message="mid")
    gitrepo.write("migrations/versions/zzz_copy.py", gitrepo.read(mid))
    gitrepo.commit("one id, two files")
    for path in (mid, "migrations/versions/zzz_copy.py"):
        before = gitrepo.read(path)
        gitrepo.write(path, before + b"\nX = 1\n")

        data = json.loads(gitrepo.run("diff", "HEAD", "-f", "json", check=True).stdout)

        [env] = data["environments"]
        assert MID in env["edited"], path
        gitrepo.write(path, before)


_DUP_BODY = "\n\ndef upgrade():\n    pass\n"


def _dup(gitrepo, name: str, down: str) -> None:
    """``migrations/versions/<name>`` declaring the id "dup" on ``down``."""
    gitrepo.write(f"migrations/versions/{name}", f'"""r"""\nrevision = "dup"\ndown_revision = "{down}"\n{_DUP_BODY}')


def _one_id_in_two_files(gitrepo, second_down: str) -> None:
    """ROOT <- MID, and "dup" declared by r_1.py (on ROOT) and r_2.py (on ``second_down``), committed."""
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="root")
    gitrepo.add_revision(MID, ROOT, message="mid")
    _dup(gitrepo, "r_1.py", ROOT)
    _dup(gitrepo, "r_2.py", second_down)
    gitrepo.commit("one id, two files")


def _last_commit_diff(gitrepo) -> dict:
    [env] = json.loads(gitrepo.run("diff", "HEAD~1", "HEAD", "-f", "json", check=True).stdout)["environments"]
    return env


def test_removing_one_of_two_files_of_an_id_is_no_re_point(gitrepo):
    # A tester: r_1.py (on ROOT) and r_2.py (on MID) both declare "dup"; deleting r_2.py
    # was "dup re-pointed: MID -> ROOT", r_1.py untouched. The map by id kept r_2.py.
    _one_id_in_two_files(gitrepo, MID)
    gitrepo.remove("migrations/versions/r_2.py")
    gitrepo.commit("the copy goes")

    text = gitrepo.run("diff", "HEAD~1", "HEAD", check=True).stdout
    env = _last_commit_diff(gitrepo)

    assert env["repointed"] == [] and env["edited"] == [] and env["removed"] == []
    assert env["deduplicated"] == [{"revision": "dup", "removed": ["migrations/versions/r_2.py"]}]
    assert text == "= dup declared by fewer files: migrations/versions/r_2.py removed\n"


def test_the_file_left_of_an_id_is_still_compared_with_its_old_self(gitrepo):
    _one_id_in_two_files(gitrepo, ROOT)
    gitrepo.remove("migrations/versions/r_2.py")
    _dup(gitrepo, "r_1.py", MID)
    gitrepo.commit("the copy goes, the other moves onto MID")

    assert _last_commit_diff(gitrepo)["repointed"] == [{"revision": "dup", "old": [ROOT], "new": [MID]}]


def test_the_file_left_of_an_id_is_found_again_when_it_was_also_renamed(gitrepo):
    # A reviewer: r_2.py deleted and r_1.py renamed in one commit: "re-pointed: MID -> ROOT",
    # and r_1.py listed as removed too.
    _one_id_in_two_files(gitrepo, MID)
    gitrepo.remove("migrations/versions/r_2.py")
    gitrepo.git("mv", "migrations/versions/r_1.py", "migrations/versions/r_keep.py")
    gitrepo.commit("the copy goes, the other is renamed")

    env = _last_commit_diff(gitrepo)

    assert env["repointed"] == [] and env["edited"] == []
    assert env["deduplicated"] == [{"revision": "dup", "removed": ["migrations/versions/r_2.py"]}]
