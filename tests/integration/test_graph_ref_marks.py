"""`revgraph graph --ref REF --base B` marks what `graph --base B` marks with REF checked out.

PRODUCT §2 `graph`: conflicting and edited revisions are marked. Those marks
come from `check`'s findings, which must be the findings of the commit drawn,
not of whatever the working tree holds: a reviewer draws a branch without
checking it out, and must see the same picture its author sees.

The repository: main and feature each add a revision on root01 (RG102 once
merged: both are conflicts) and feature edits the landed root01 (RG203:
edited). Each picture is taken twice, once from feature checked out, once
from main with ``--ref feature``, where the working tree holds an
uncommitted revision of its own that forks main too: its finding must not
reach feature's picture.
"""

from __future__ import annotations

import json

import pytest

from tests.support.gitrepo import GitRepo

ROOT, MAIN_NEW, FEATURE_NEW, UNCOMMITTED = "root01", "main0a", "feat0b", "wtree0c"
USERS = 'op.create_table("users", sa.Column("id", sa.Integer()))'
ORDERS = 'op.create_table("orders", sa.Column("id", sa.Integer()))'
ITEMS = 'op.create_table("items", sa.Column("id", sa.Integer()))'
FORMATS = ("json", "tree", "mermaid", "dot", "svg", "html")


def forked_and_edited(repo: GitRepo, *, lock: bool = False) -> None:
    """main and feature fork from root01; feature also edits root01. Checked out: main.

    ``lock``: feature commits a lock file recording only root01, stale once it
    adds its revision (RG401, an error on feature alone).
    """
    repo.init_env()
    root = repo.add_revision(ROOT, None, message="create users", body=USERS)
    repo.commit("root")
    repo.branch("feature")
    repo.add_revision(MAIN_NEW, ROOT, message="create orders", body=ORDERS)
    repo.commit("main adds a revision")
    repo.checkout("feature")
    if lock:
        repo.run("lock", check=True)
    repo.add_revision(FEATURE_NEW, ROOT, message="create items", body=ITEMS)
    repo.write(root, repo.read(root).decode().replace('"id"', '"uid"'))
    repo.commit("feature adds a revision and edits a landed one")
    repo.checkout("main")


def draw(repo: GitRepo, fmt: str, *args: str) -> str:
    done = repo.run("graph", "--base", "main", "--format", fmt, *args)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    # The title names what is drawn; everything else must be the same.
    return done.stdout.replace("feature merged into main", "HEAD merged into main")


def marks(drawn_json: str) -> dict[str, set[str]]:
    return {node["id"]: set(node["marks"]) for node in json.loads(drawn_json)["nodes"]}


def pictures(repo: GitRepo, *args: str, formats=FORMATS) -> tuple[dict[str, str], dict[str, str]]:
    """Each format drawn with feature checked out, then from main with ``--ref feature``."""
    repo.checkout("feature")
    checked_out = {fmt: draw(repo, fmt, *args) for fmt in formats}
    repo.checkout("main")
    repo.add_revision(UNCOMMITTED, ROOT, message="uncommitted on main", body=ITEMS)
    # The working tree's own check goes first: its cached result must not answer for feature.
    assert "RG101" in repo.run("check", "--base", "main").stdout
    from_main = {fmt: draw(repo, fmt, "--ref", "feature", *args) for fmt in formats}
    return checked_out, from_main


# Every format once; the other focus in the two that show marks most directly
# (each picture is two processes: the suite's time budget).
@pytest.mark.parametrize(
    ("focus", "formats"), [((), FORMATS), (("--focus", "all"), ("json", "tree"))], ids=["default-focus", "focus-all"]
)
def test_graph_of_a_ref_carries_that_refs_conflict_and_edited_marks(gitrepo, focus, formats):
    forked_and_edited(gitrepo)
    checked_out, from_main = pictures(gitrepo, *focus, formats=formats)
    got = marks(from_main["json"])
    assert "conflict" in got[FEATURE_NEW] and "conflict" in got[MAIN_NEW]
    assert "edited" in got[ROOT]
    assert UNCOMMITTED not in got
    for fmt in formats:
        assert from_main[fmt] == checked_out[fmt], fmt


def test_graph_of_a_ref_reads_that_refs_lock_file(gitrepo):
    forked_and_edited(gitrepo, lock=True)  # main has no lock file; feature's is stale
    checked_out, from_main = pictures(gitrepo, "--focus", "all", formats=("json", "tree"))
    assert marks(from_main["json"]) == marks(checked_out["json"])
    assert "conflict" in marks(from_main["json"])[ROOT]  # RG401 names the recorded head
    assert from_main["tree"] == checked_out["tree"]


def test_the_title_on_main_itself_says_at_main_not_merged_into_it(gitrepo):
    # Review: on main, the picture was titled "HEAD merged into main".
    gitrepo.init_env()
    gitrepo.add_revision("a1", None, message="root")
    gitrepo.commit("root")
    assert gitrepo.run("graph").stdout.splitlines()[0] == "default: HEAD at main"
    assert gitrepo.run("graph", "--ref", "main").stdout.splitlines()[0] == "default @ main"
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    gitrepo.add_revision("b2", "a1", message="next")
    gitrepo.commit("next")
    assert gitrepo.run("graph").stdout.splitlines()[0] == "default: HEAD merged into main"
    assert gitrepo.run("graph", "--ref", "main", "--base", "main").stdout.splitlines()[0] == "default: main at main"
