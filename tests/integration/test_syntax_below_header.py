"""RG107 covers syntax errors anywhere in a revision the branch adds.

The cached reader proves only the header (fast path); alembic imports the
whole file, so a broken upgrade() in a new file must still fail the check.
"""

from __future__ import annotations

import json

BROKEN_BODY = "def upgrade():\n    op.create_table('t'\n\n\ndef downgrade():\n    pass\n"


def _feature_adding(gitrepo, message: str, body: str | None = None) -> str:
    """main with one revision; checked out: branch feature adding bbbb00000002 (uncommitted). Its path."""
    gitrepo.init_env()
    gitrepo.add_revision("aaaa00000001", None, message="base")
    gitrepo.commit("base")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    return gitrepo.add_revision("bbbb00000002", "aaaa00000001", message=message, body=body)


def test_syntax_error_in_a_new_revisions_upgrade_is_rg107_with_its_line(gitrepo):
    path = _feature_adding(gitrepo, "broken", BROKEN_BODY)
    gitrepo.commit("broken upgrade")

    proc = gitrepo.run("check", "--base", "main", "--format", "json", check=1)

    findings = [f for f in json.loads(proc.stdout)["findings"] if f["code"] == "RG107"]
    assert len(findings) == 1
    (loc,) = findings[0]["locations"]
    assert loc["path"] == path
    lines = gitrepo.read(path).decode().splitlines()
    assert "op.create_table('t'" in lines[loc["line"] - 1]  # the line with the unclosed paren
    # The graph is intact: the broken file's revision is still the one head.
    assert not [f for f in json.loads(proc.stdout)["findings"] if f["code"] in ("RG101", "RG104")]


def test_a_healthy_new_revision_gives_no_rg107(gitrepo):
    _feature_adding(gitrepo, "fine")
    gitrepo.commit("fine")

    proc = gitrepo.run("check", "--base", "main", "--format", "json", check=0)
    assert json.loads(proc.stdout)["findings"] == []


def test_only_a_file_that_compiles_is_remembered_as_compiling(gitrepo):
    """The parse cache remembers "compiles" per content, never "does not": a broken
    file is judged again on each check the result cache cannot answer, and an edit
    that breaks a file once known to compile is a new content, judged afresh."""
    import shutil

    path = _feature_adding(gitrepo, "broken", BROKEN_BODY)
    broken = gitrepo.read(path)

    def codes() -> list[str]:
        shutil.rmtree(gitrepo.path / ".git" / "revgraph" / "results", ignore_errors=True)
        shutil.rmtree(gitrepo.path / ".git" / "revgraph" / "express", ignore_errors=True)
        done = gitrepo.run("check", "--base", "main", "--format", "json")
        return [f["code"] for f in json.loads(done.stdout)["findings"]]

    assert codes() == codes() == ["RG107"]
    fixed = broken.replace(b"op.create_table('t'\n", b"op.create_table('t')\n")
    gitrepo.write(path, fixed)
    assert codes() == codes() == []
    gitrepo.write(path, broken)  # broken again: its content is the first one, never recorded as fine
    assert codes() == ["RG107"]
