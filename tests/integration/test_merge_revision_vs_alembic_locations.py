"""The merge revision's folder and parent order, against the real ``alembic merge`` (PRODUCT §4).

alembic lists heads in the order it loaded their files -- version locations
in config order, each walked top-down with its file names sorted -- so the
merge's ``down_revision`` comes out in that order, and with several version
locations the new file goes to the folder of the first head listed. Sorting
the heads by id gets both wrong. Every test here builds one project, lets
revgraph and alembic write the merge revision on identical copies and
compares the new file's path and bytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.gitrepo import GitRepo
from tests.support.revfiles import TEMPLATES, render_revision

MERGE_ID = "300000000001"
MESSAGE = "mrg"
DATE = datetime(2024, 5, 17, 9, 30, 12, 345678)


# ------------------------------------------------------------------ layouts
@dataclass(frozen=True)
class Rev:
    folder: str  # relative to the project root
    name: str  # file name, independent of the id so that the two orders differ
    rev_id: str
    down: str | None
    labels: str | None = None


@dataclass(frozen=True)
class Layout:
    locations: tuple[str, ...]  # version_locations in config order; () = alembic's default
    revisions: tuple[Rev, ...]
    recursive: bool = False
    config: str = "ini"  # "ini": alembic.ini; "toml": pyproject.toml [tool.alembic]
    file_template: str = "%%(rev)s_%%(slug)s"


def write_project(root: Path, layout: Layout) -> None:
    """The project on disk: config, script.py.mako and each revision file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "script.py.mako").write_text(TEMPLATES["typed"], encoding="utf-8")
    _write_config(root, layout)
    for folder in layout.locations or ("migrations/versions",):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for rev in layout.revisions:
        path = root / rev.folder / rev.name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render_revision(rev.rev_id, rev.down, message=f"rev {rev.rev_id}", branch_labels=rev.labels)
        path.write_text(text, encoding="utf-8")


def _write_config(root: Path, layout: Layout) -> None:
    recursive = "true" if layout.recursive else "false"
    if layout.config == "toml":
        locations = ", ".join(f'"%(here)s/{loc}"' for loc in layout.locations)
        lines = [
            "[tool.alembic]",
            'script_location = "%(here)s/migrations"',
            f'file_template = "{layout.file_template}"',
            f"recursive_version_locations = {recursive}",
        ]
        if layout.locations:
            lines.append(f"version_locations = [{locations}]")
        (root / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        # What `alembic init --template pyproject` leaves beside it: the URL only.
        (root / "alembic.ini").write_text("[alembic]\nsqlalchemy.url = sqlite://\n", encoding="utf-8")
        return
    lines = [
        "[alembic]",
        "script_location = %(here)s/migrations",
        "path_separator = os",
        f"file_template = {layout.file_template}",
        f"recursive_version_locations = {recursive}",
    ]
    if layout.locations:
        lines.append("version_locations = " + os.pathsep.join(f"%(here)s/{loc}" for loc in layout.locations))
    (root / "alembic.ini").write_text("\n".join(lines) + "\n", encoding="utf-8")


def python_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*.py")
        if ".git" not in p.relative_to(root).parts
    }


def parents_written(data: bytes) -> tuple[str, ...]:
    """The merge's parents as its ``Revises:`` line lists them (alembic's tuple order)."""
    match = re.search(rb"^Revises: (.*)$", data, re.MULTILINE)
    assert match, data
    return tuple(match.group(1).decode().split(", "))


def without_create_date(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\n") if not line.startswith(b"Create Date:")]


# ----------------------------------------------------- the CLI, end to end
V, X, D = "migrations/versions", "extra", "db/more"
DATE_FOLDERS = "%%(year)d/%%(month).2d/%%(rev)s_%%(slug)s"  # alembic.ini's commented-out example

# Each case's file names sort unlike its ids, so sorting heads by id (the
# bug) would give another parent order or another folder than alembic.
CLI_CASES = {
    # QA's project: heads 2 in extra/, 3 in migrations/versions (listed first).
    "qa-pyproject-two-locations": (
        Layout(
            (V, X),
            (
                Rev(V, "2026_200000000001_p_one.py", "200000000001", None),
                Rev(X, "2026_200000000002_p_two.py", "200000000002", "200000000001"),
                Rev(V, "2026_200000000003_p_three.py", "200000000003", "200000000001"),
            ),
            config="toml",
            recursive=True,
            file_template="%%(slug)s_%%(rev)s",
        ),
        "heads",
    ),
    "single-default-folder-names-unlike-ids": (
        Layout(
            (),
            (
                Rev(V, "a_base.py", "b0", None),
                Rev(V, "b_first.py", "ccc", "b0"),
                Rev(V, "c_second.py", "aaa", "b0"),
            ),
        ),
        "heads",
    ),
    "three-heads-three-locations-second-location-first": (
        Layout(
            (D, V, X),
            (
                Rev(V, "base.py", "b0", None),
                Rev(X, "a.py", "aaa", "b0"),
                Rev(V, "z.py", "bbb", "b0"),
                Rev(D, "m.py", "ccc", "b0"),
            ),
        ),
        "heads",
    ),
    "three-heads-one-location-later-in-config": (
        Layout(
            (X, V),
            (
                Rev(X, "base.py", "b0", None),
                Rev(V, "1_z.py", "aaa", "b0"),
                Rev(V, "0_y.py", "ccc", "b0"),
                Rev(V, "2_x.py", "bbb", "b0"),
            ),
        ),
        "heads",
    ),
    # keystone's layout: `versions` itself, then versions/<release>/<expand|contract>
    # in release order, not recursive. alembic lists each location's own files,
    # location by location, so bobcat's head comes before 2026.1's and the file
    # goes to bobcat/expand -- not in the order the nested folders' names sort in.
    "nested-locations-in-config-order-not-recursive": (
        Layout(
            (V, f"{V}/yoga/expand", f"{V}/yoga/contract", f"{V}/bobcat/expand", f"{V}/2026.1/expand"),
            (
                Rev(V, "27945a60_initial.py", "27945a601000", None),
                Rev(f"{V}/yoga/expand", "e25ffa003242_yoga_expand.py", "e25ffa003242", "27945a601000",
                    labels="expand"),
                Rev(f"{V}/yoga/contract", "29e87d24a316_yoga_contract.py", "29e87d24a316", "27945a601000",
                    labels="contract"),
                Rev(f"{V}/2026.1/expand", "aaaa00000001_add_alpha.py", "aaaa00000001", "e25ffa003242"),
                Rev(f"{V}/bobcat/expand", "bbbb00000002_add_beta.py", "bbbb00000002", "e25ffa003242"),
            ),
        ),
        "expand@heads",
    ),
    # Two labelled lines: revgraph merges the one whose heads compete, as
    # `alembic merge app@heads` does; the other line is left alone.
    "labelled-line-beside-another": (
        Layout(
            (V, X),
            (
                Rev(V, "app_base.py", "a0", None, labels="app"),
                Rev(X, "app_left.py", "a1", "a0"),
                Rev(V, "app_right.py", "a2", "a0"),
                Rev(X, "aux_base.py", "x0", None, labels="aux"),
            ),
        ),
        "app@heads",
    ),
    # alembic.ini's own suggestion, with recursive_version_locations = true: the
    # merge goes to versions/<year>/<month>/, which alembic creates (QA repro-1).
    # One head sits in an older date folder; alembic lists the location's own
    # files before its sub-folders', so ccc comes before aaa.
    "date-subfolders-created-like-alembic": (
        Layout(
            (),
            (
                Rev(V, "b0_base.py", "b0", None),
                Rev(f"{V}/2024/05", "aaa_first.py", "aaa", "b0"),
                Rev(V, "ccc_second.py", "ccc", "b0"),
            ),
            recursive=True,
            file_template=DATE_FOLDERS,
        ),
        "heads",
    ),
}


def committed_with_twin(gitrepo: GitRepo, layout: Layout, tmp_path: Path) -> GitRepo:
    """``layout`` committed in ``gitrepo``, and a copy of it where alembic itself runs."""
    write_project(gitrepo.path, layout)
    gitrepo.commit("project")
    twin = GitRepo(tmp_path / "twin", gitrepo.env)
    shutil.copytree(gitrepo.path, twin.path)
    return twin


def clear_of_a_month_change(margin: float = 90.0) -> None:
    """Sleep past a month change less than ``margin`` seconds away.

    revgraph and alembic each read the clock for the date folder, seconds
    apart: across midnight at a month's end they would rightly disagree.
    """
    now = datetime.now()
    first = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if (first - now).total_seconds() < margin:
        time.sleep((first - now).total_seconds() + 1)


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_fix_merge_writes_alembic_merge_heads_folder_and_parent_order(case, gitrepo: GitRepo, tmp_path):
    layout, target = CLI_CASES[case]
    if "%%(month)" in layout.file_template:
        clear_of_a_month_change()
    twin = committed_with_twin(gitrepo, layout, tmp_path)
    before = python_files(gitrepo.path)

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", MESSAGE, "--rev-id", MERGE_ID)
    twin.alembic("merge", "-m", MESSAGE, "--rev-id", MERGE_ID, target)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    ours = {p: b for p, b in python_files(gitrepo.path).items() if p not in before}
    theirs = {p: b for p, b in python_files(twin.path).items() if p not in before}
    assert list(ours) == list(theirs), "the merge revision went to another folder than alembic's"
    (path,) = theirs
    assert parents_written(ours[path]) == parents_written(theirs[path])
    # The Create Date is "now" in each run; every other byte must match.
    assert without_create_date(ours[path]) == without_create_date(theirs[path])
    parents = parents_written(theirs[path])
    assert parents != tuple(sorted(parents)), "case does not tell alembic's order from id order"


def folders(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir() and ".git" not in p.parts}


def test_fix_merge_dry_run_creates_no_date_folder(gitrepo: GitRepo):
    layout, _ = CLI_CASES["date-subfolders-created-like-alembic"]
    write_project(gitrepo.path, layout)
    gitrepo.commit("project")
    before = folders(gitrepo.path)

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", MESSAGE, "--rev-id", MERGE_ID, "--dry-run")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    (new_file,) = re.findall(rf"^\+\+\+ b/({V}/\d{{4}}/\d\d/{MERGE_ID}_{MESSAGE}\.py)$", proc.stdout, re.MULTILINE)
    folder = new_file.rsplit("/", 1)[0]
    assert f"would create folder {folder}" in proc.stdout.splitlines()
    assert folders(gitrepo.path) == before
    assert gitrepo.status() == ""


def test_fix_merge_says_which_folder_it_created(gitrepo: GitRepo):
    layout, _ = CLI_CASES["date-subfolders-created-like-alembic"]
    write_project(gitrepo.path, layout)
    gitrepo.commit("project")
    before = folders(gitrepo.path)

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", MESSAGE, "--rev-id", MERGE_ID)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    made = sorted(folders(gitrepo.path) - before)  # <year>, and <year>/<month> below it
    assert len(made) == 2 and made[1].startswith(made[0] + "/"), made
    # Like alembic's "Creating directory .../<year>/<month>": the deepest one.
    assert f"created folder {made[1]}" in proc.stdout.splitlines()
    assert f"created folder {made[0]}" not in proc.stdout.splitlines()


# ------------------------------------------ the writer, property-based
_WORKER = r"""
import io, json, sys, traceback
from datetime import datetime
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

stamp = datetime.fromisoformat(sys.argv[1])
ScriptDirectory._generate_create_date = lambda self: stamp  # the date revgraph is given
replies, sys.stdout = sys.stdout, io.StringIO()  # alembic prints "Generating ..." to sys.stdout
for line in sys.stdin:
    job = json.loads(line)
    try:
        config = Config(job["ini"], stdout=io.StringIO())
        script = command.merge(config, job["revisions"], message=job["message"], rev_id=job["rev_id"])
        reply = {"path": str(script.path)}
    except CommandError as exc:
        reply = {"refused": str(exc)}
    except Exception:
        reply = {"crashed": traceback.format_exc()}
    print(json.dumps(reply), file=replies, flush=True)
"""


class AlembicWorker:
    """One python process running ``alembic.command.merge`` per request, date pinned.

    A process of its own because alembic imports every revision file; one
    for all examples because starting alembic per example costs ~0.4 s.
    """

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, DATE.isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # alembic's warnings; replies carry tracebacks
            text=True,
            env=env,
        )

    def merge(self, root: Path, revisions: str) -> dict:
        job = {"ini": str(root / "alembic.ini"), "revisions": revisions, "message": MESSAGE, "rev_id": MERGE_ID}
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"alembic worker died (exit {self.proc.poll()})"
        return json.loads(line)

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def alembic_worker() -> Iterator[AlembicWorker]:
    worker = AlembicWorker()
    yield worker
    worker.close()


@st.composite
def layouts(draw) -> Layout:
    """2-4 heads off one base, each file in any version location (or a sub-folder of one).

    A location may lie inside another (keystone lists `versions` and then
    `versions/<release>/expand`): alembic lists it in its own config place.
    """
    count = draw(st.integers(1, 4))
    locations = tuple(draw(st.permutations((V, X, D, f"{V}/n", f"{X}/m")))[:count])
    if count == 1 and draw(st.booleans()):
        locations = ()  # alembic's default <script_location>/versions
    recursive = draw(st.booleans())
    folders = list(locations or (V,))
    if recursive:
        folders = list(dict.fromkeys(folders + [f"{f}/sub" for f in folders]))
    heads = draw(st.integers(2, 4))
    numbers = draw(st.lists(st.integers(0, 16**12 - 1), min_size=heads + 1, max_size=heads + 1, unique=True))
    ids = [f"{n:012x}" for n in numbers]
    # Sorted by name, these mix capitals, digits and "_" the way str sorting does.
    names = draw(st.lists(st.text("0Aa_z", min_size=1, max_size=3), min_size=heads + 1,
                          max_size=heads + 1, unique=True))  # fmt: skip
    label = draw(st.sampled_from([None, "app"]))  # on the base: same line, same order
    base, *tops = ids
    revisions = [Rev(draw(st.sampled_from(folders)), f"{names[0]}_{base}.py", base, None, label)]
    revisions += [
        Rev(draw(st.sampled_from(folders)), f"{name}_{rid}.py", rid, base) for name, rid in zip(names[1:], tops)
    ]
    return Layout(locations, tuple(revisions), recursive=recursive)


def plan_like_revgraph(root: Path, *, all_heads_sorted: bool):
    """revgraph's plan for the project at ``root``: its own config and worktree readers.

    ``all_heads_sorted``: pass the heads as ``fix`` does (chosen, in id
    order, to be listed as alembic lists them); otherwise let plan_merge
    take every head itself.
    """
    from revgraph.config import load_project
    from revgraph.fixes.merge import plan_merge
    from revgraph.sources.worktree import read_worktree

    (env,) = load_project(root).environments
    graph = read_worktree(env, root).graph()
    if all_heads_sorted:
        heads = sorted(graph.heads)
        return plan_merge(env, graph, heads=heads, message=MESSAGE, rev_id=MERGE_ID, create_date=DATE,
                          root=root, in_load_order=True)  # fmt: skip
    return plan_merge(env, graph, message=MESSAGE, rev_id=MERGE_ID, create_date=DATE, root=root)


_examples = iter(range(10**9))


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts(), all_heads_sorted=st.booleans())
def test_merge_plan_is_the_file_alembic_merge_heads_writes(layout, all_heads_sorted, alembic_worker, git_env,
                                                          tmp_path):  # fmt: skip
    from revgraph.errors import RevgraphError

    root = Path(os.path.realpath(tmp_path / f"p{next(_examples)}"))
    write_project(root, layout)

    try:
        plan = plan_like_revgraph(root, all_heads_sorted=all_heads_sorted)
    except RevgraphError as exc:
        plan, refusal = None, exc
    written = alembic_worker.merge(root, "heads")

    assert "crashed" not in written, written.get("crashed")
    if "refused" in written:
        # alembic refuses when the first head lives in a sub-folder, not a location.
        assert plan is None, f"alembic refused ({written['refused']}) but revgraph planned {plan}"
        return
    assert plan is not None, f"revgraph refused ({refusal}) what alembic wrote"
    (edit,) = plan.edits
    new = Path(written["path"])
    assert edit.path == new.relative_to(root).as_posix()
    assert edit.new == new.read_bytes()


@pytest.mark.parametrize("recursive", [False, True])
@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("../%%(rev)s_%%(slug)s", f"would go to migrations/{MERGE_ID}_mrg.py, outside {V}, where alembic never reads"),
        ("%%(rev)s/../../%%(slug)s_%%(rev)s", f"would go to migrations/mrg_{MERGE_ID}.py, outside {V}"),
        ("a/../%%(rev)s_%%(slug)s", "goes down a folder and back up ('..'): alembic merge fails on it"),
    ],
)
def test_fix_merge_refuses_a_file_template_with_dot_dot_and_says_where_it_leads(
    template, says, recursive, gitrepo: GitRepo, tmp_path
):
    # Not "in a sub-folder that alembic does not read" (nor its advice to turn on
    # recursive_version_locations): a '..' leads out of the folder, or trips alembic up.
    layout = Layout(
        (),
        (Rev(V, "b0_base.py", "b0", None), Rev(V, "aaa_first.py", "aaa", "b0"), Rev(V, "ccc_second.py", "ccc", "b0")),
        recursive=recursive,
        file_template=template,
    )
    twin = committed_with_twin(gitrepo, layout, tmp_path)

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", MESSAGE, "--rev-id", MERGE_ID)

    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert says in proc.stderr, proc.stderr
    assert "sub-folder" not in proc.stderr and "recursive_version_locations" not in proc.stderr
    assert gitrepo.status() == ""
    # What alembic does: writes where it never reads (both heads stay), or fails.
    done = twin.alembic("merge", "-m", MESSAGE, "--rev-id", MERGE_ID, "heads", check=None)
    if "a/.." in template:
        assert done.returncode != 0
    else:
        heads = twin.alembic("heads").stdout
        assert "aaa (head)" in heads and "ccc (head)" in heads, heads


def test_fix_merge_refuses_a_sub_folder_alembic_would_not_read(gitrepo: GitRepo, tmp_path):
    # file_template makes folders, recursive_version_locations is off: alembic merge
    # writes the merge revision there and never reads it, so the heads remain.
    layout = Layout(
        (),
        (Rev(V, "b0_base.py", "b0", None), Rev(V, "aaa_first.py", "aaa", "b0"), Rev(V, "ccc_second.py", "ccc", "b0")),
        recursive=False,
        file_template=DATE_FOLDERS,
    )
    twin = committed_with_twin(gitrepo, layout, tmp_path)
    before = folders(gitrepo.path)

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", MESSAGE, "--rev-id", MERGE_ID)

    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert "in a sub-folder of migrations/versions that alembic does not read" in proc.stderr, proc.stderr
    assert "hint: set recursive_version_locations = true" in proc.stderr
    assert folders(gitrepo.path) == before and gitrepo.status() == ""
    # What alembic does there: the file is written, and both heads are still heads.
    twin.alembic("merge", "-m", MESSAGE, "--rev-id", MERGE_ID, "heads")
    assert any(MERGE_ID in p.name for p in (twin.path / V).rglob("*.py"))
    heads = twin.alembic("heads").stdout
    assert "aaa (head)" in heads and "ccc (head)" in heads, heads
