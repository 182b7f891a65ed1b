"""The one writer (PRODUCT §4, §9): atomic, all or nothing, only where allowed."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from pathlib import Path

import pytest

from revgraph.errors import ConcurrentEditError, WriteError
from revgraph.fixes.apply import apply_plan
from revgraph.fixes.plan import EditPlan, FileEdit

VERSIONS = "migrations/versions"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / VERSIONS).mkdir(parents=True)
    return tmp_path


def put(root: Path, rel: str, data: bytes, mode: int | None = None) -> Path:
    path = root / rel
    path.write_bytes(data)
    if mode is not None:
        path.chmod(mode)
    return path


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (temp files included) with its bytes and mode."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def two_file_plan(root: Path) -> EditPlan:
    put(root, f"{VERSIONS}/a.py", b"down_revision = 'x'\n", 0o640)
    put(root, f"{VERSIONS}/b.py", b'down_revision = "y"\r\n', 0o444)
    return EditPlan(
        "rebase",
        edits=(
            FileEdit(f"{VERSIONS}/a.py", b"down_revision = 'x'\n", b"down_revision = 'z'\n"),
            FileEdit(f"{VERSIONS}/b.py", b'down_revision = "y"\r\n', b'down_revision = "a"\r\n'),
        ),
    )


def allowed(root: Path) -> list[Path]:
    return [root / VERSIONS]


# ------------------------------------------------------------------ success
def test_writes_every_edit_and_keeps_each_files_mode(repo):
    plan = two_file_plan(repo)

    written = apply_plan(plan, repo, allowed_dirs=allowed(repo))

    assert written == [f"{VERSIONS}/a.py", f"{VERSIONS}/b.py"]
    assert snapshot(repo / VERSIONS) == {
        "a.py": (b"down_revision = 'z'\n", 0o640),
        "b.py": (b'down_revision = "a"\r\n', 0o444),
    }


def test_creates_a_new_file_with_the_umask_mode(repo):
    plan = EditPlan("merge", edits=(FileEdit(f"{VERSIONS}/m.py", None, b"revision = 'm'\n"),))
    old_mask = os.umask(0o027)
    try:
        apply_plan(plan, repo, allowed_dirs=allowed(repo))
    finally:
        os.umask(old_mask)

    assert snapshot(repo / VERSIONS) == {"m.py": (b"revision = 'm'\n", 0o640)}


def test_relative_allowed_dirs_are_taken_from_the_root(repo):
    plan = two_file_plan(repo)

    assert apply_plan(plan, repo, allowed_dirs=[Path(VERSIONS)]) == list(plan.paths)


def test_an_empty_plan_writes_nothing(repo):
    assert apply_plan(EditPlan("rebase"), repo, allowed_dirs=allowed(repo)) == []


def test_dry_run_checks_but_writes_nothing(repo):
    plan = two_file_plan(repo)
    before = snapshot(repo / VERSIONS)

    written = apply_plan(plan, repo, allowed_dirs=allowed(repo), dry_run=True)

    assert written == list(plan.paths)
    assert snapshot(repo / VERSIONS) == before


def test_the_plan_diff_applies_with_git_apply(repo):
    plan = two_file_plan(repo)
    plan = EditPlan(
        "rebase",
        edits=plan.edits + (FileEdit(f"{VERSIONS}/new.py", None, b"revision = 'n'\nlast line"),),
    )
    expected = {Path(e.path).name: e.new for e in plan.edits}
    for path in (repo / VERSIONS).iterdir():
        path.chmod(0o644)  # git apply rewrites the files; a mode change is not the point here

    subprocess.run(
        ["git", "apply", "--unsafe-paths", "-"],
        input=plan.diff().encode(),
        cwd=repo,
        check=True,
        env={**os.environ, "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"},
    )

    assert {name: data for name, (data, _) in snapshot(repo / VERSIONS).items()} == expected


# ----------------------------------------------------------- concurrent edits
def test_a_file_changed_since_planning_stops_everything(repo):
    plan = two_file_plan(repo)
    put(repo, f"{VERSIONS}/b.py", b"down_revision = 'someone else'\n", 0o444)
    before = snapshot(repo / VERSIONS)

    with pytest.raises(ConcurrentEditError, match=r"b\.py changed since revgraph read it; nothing was written"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo))

    assert snapshot(repo / VERSIONS) == before


def test_a_file_deleted_since_planning_stops_everything(repo):
    plan = two_file_plan(repo)
    (repo / VERSIONS / "a.py").unlink()

    with pytest.raises(ConcurrentEditError, match="deleted"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo))

    assert snapshot(repo / VERSIONS)["b.py"][0] == b'down_revision = "y"\r\n'


def test_a_file_to_create_that_appeared_meanwhile_is_not_overwritten(repo):
    put(repo, f"{VERSIONS}/m.py", b"theirs\n")
    plan = EditPlan("merge", edits=(FileEdit(f"{VERSIONS}/m.py", None, b"ours\n"),))

    with pytest.raises(ConcurrentEditError, match="exists already"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo))

    assert (repo / VERSIONS / "m.py").read_bytes() == b"theirs\n"


def test_a_file_created_between_staging_and_renaming_is_not_overwritten(repo):
    plan = EditPlan("merge", edits=(FileEdit(f"{VERSIONS}/m.py", None, b"ours\n"),))

    def someone_creates_it(step, path):
        if step == "rename":
            put(repo, path, b"theirs\n")

    with pytest.raises(ConcurrentEditError, match="exists already"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo), _fault=someone_creates_it)

    assert snapshot(repo / VERSIONS) == {"m.py": (b"theirs\n", snapshot(repo / VERSIONS)["m.py"][1])}


def test_a_file_changed_while_staging_is_caught_before_any_rename(repo):
    plan = two_file_plan(repo)

    def someone_edits_a(step, path):
        if step == "write" and path.endswith("a.py"):
            put(repo, path, b"down_revision = 'edited'\n")

    with pytest.raises(ConcurrentEditError):
        apply_plan(plan, repo, allowed_dirs=allowed(repo), _fault=someone_edits_a)

    assert snapshot(repo / VERSIONS) == {
        "a.py": (b"down_revision = 'edited'\n", 0o640),
        "b.py": (b'down_revision = "y"\r\n', 0o444),
    }


# -------------------------------------------------------------- failures
@pytest.mark.parametrize(
    "step, nth, error",
    [
        ("rename", 2, PermissionError(errno.EACCES, "Permission denied")),
        ("rename", 1, OSError(errno.EROFS, "Read-only file system")),
        ("write", 2, OSError(errno.ENOSPC, "No space left on device")),
        ("write", 1, PermissionError(errno.EACCES, "Permission denied")),
    ],
)
def test_any_failure_leaves_every_file_as_it_was_and_no_temp_files(repo, step, nth, error):
    plan = two_file_plan(repo)
    plan = EditPlan("merge", edits=plan.edits + (FileEdit(f"{VERSIONS}/new.py", None, b"new\n"),))
    before = snapshot(repo / VERSIONS)
    calls = []

    def fault(at, path):
        if at == step:
            calls.append(path)
            if len(calls) == nth:
                raise error

    with pytest.raises(WriteError, match=f"could not write .*{error.strerror}; every file was left as it was"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo), _fault=fault)

    assert snapshot(repo / VERSIONS) == before  # also: no temp or backup file left


def test_a_failure_after_a_created_file_was_renamed_removes_it_again(repo):
    plan = two_file_plan(repo)
    plan = EditPlan("merge", edits=(FileEdit(f"{VERSIONS}/new.py", None, b"new\n"),) + plan.edits)
    before = snapshot(repo / VERSIONS)

    def fault(at, path):
        if at == "rename" and path.endswith("b.py"):
            raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(WriteError, match="Input/output error"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo), _fault=fault)

    assert snapshot(repo / VERSIONS) == before


def test_an_interrupt_rolls_back_and_is_re_raised(repo):
    plan = two_file_plan(repo)
    before = snapshot(repo / VERSIONS)

    def fault(at, path):
        if at == "rename" and path.endswith("b.py"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        apply_plan(plan, repo, allowed_dirs=allowed(repo), _fault=fault)

    assert snapshot(repo / VERSIONS) == before


def test_the_original_inode_is_restored_so_other_hard_links_stay_intact(repo):
    plan = two_file_plan(repo)
    os.link(repo / VERSIONS / "a.py", repo / "a-elsewhere.py")
    inode = (repo / VERSIONS / "a.py").stat().st_ino

    def fault(at, path):
        if at == "rename" and path.endswith("b.py"):
            raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(WriteError):
        apply_plan(plan, repo, allowed_dirs=allowed(repo), _fault=fault)

    assert (repo / VERSIONS / "a.py").stat().st_ino == inode


# ------------------------------------------------------------ where to write
def test_refuses_a_path_outside_the_allowed_folders(repo):
    put(repo, "app.py", b"x\n")
    plan = EditPlan("rebase", edits=(FileEdit("app.py", b"x\n", b"y\n"),))

    with pytest.raises(WriteError, match="outside the versions folders"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo))

    assert (repo / "app.py").read_bytes() == b"x\n"


@pytest.mark.parametrize("rel", ["../escape.py", "/etc/passwd", f"{VERSIONS}/../../x.py", ""])
def test_refuses_paths_that_are_not_inside_the_repository(repo, rel):
    plan = EditPlan("rebase", edits=(FileEdit(rel, None, b"y\n"),))

    with pytest.raises(WriteError, match="not a path inside the repository"):
        apply_plan(plan, repo, allowed_dirs=[repo])


def test_refuses_a_symlink_that_leaves_the_repository(tmp_path):
    repo = tmp_path / "repo"
    (repo / VERSIONS).mkdir(parents=True)
    outside = tmp_path / "outside.py"
    outside.write_bytes(b"x\n")
    (repo / VERSIONS / "link.py").symlink_to(outside)
    plan = EditPlan("rebase", edits=(FileEdit(f"{VERSIONS}/link.py", b"x\n", b"y\n"),))

    with pytest.raises(WriteError, match="symlink leads it outside the repository"):
        apply_plan(plan, repo, allowed_dirs=[repo / VERSIONS, tmp_path])

    assert outside.read_bytes() == b"x\n"


def test_refuses_a_symlinked_versions_folder_that_leaves_the_repository(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (repo / "versions").symlink_to(tmp_path / "elsewhere")
    plan = EditPlan("merge", edits=(FileEdit("versions/m.py", None, b"y\n"),))

    with pytest.raises(WriteError, match="outside the repository"):
        apply_plan(plan, repo, allowed_dirs=[repo / "versions"])

    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_symlink_inside_the_versions_folder_is_written_through_and_kept(repo):
    target = put(repo, f"{VERSIONS}/real.py", b"x\n")
    (repo / VERSIONS / "alias.py").symlink_to("real.py")
    plan = EditPlan("rebase", edits=(FileEdit(f"{VERSIONS}/alias.py", b"x\n", b"y\n"),))

    apply_plan(plan, repo, allowed_dirs=allowed(repo))

    assert (repo / VERSIONS / "alias.py").is_symlink()
    assert target.read_bytes() == b"y\n"


def test_refuses_a_plan_that_writes_one_file_twice(repo):
    put(repo, f"{VERSIONS}/a.py", b"x\n")
    edit = FileEdit(f"{VERSIONS}/a.py", b"x\n", b"y\n")

    with pytest.raises(WriteError, match="twice"):
        apply_plan(EditPlan("rebase", edits=(edit, edit)), repo, allowed_dirs=allowed(repo))


def test_refuses_to_create_a_file_in_a_missing_folder(repo):
    plan = EditPlan("merge", edits=(FileEdit(f"{VERSIONS}/sub/m.py", None, b"y\n"),))

    with pytest.raises(WriteError, match="does not exist"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo))


# ------------------------------------- folders a new file needs (alembic's makedirs)
DATED = f"{VERSIONS}/2026/11/m.py"  # file_template = %%(year)d/%%(month).2d/%%(rev)s_%%(slug)s


def dated_plan(rel: str = DATED, below: str | None = VERSIONS) -> EditPlan:
    return EditPlan("merge", edits=(FileEdit(rel, None, b"revision = 'm'\n", folders_below=below),))


def folders(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir())


def test_creates_the_missing_folders_below_the_versions_location(repo):
    made: list[str] = []
    old_mask = os.umask(0o027)
    try:
        apply_plan(dated_plan(), repo, allowed_dirs=allowed(repo), created_folders=made)
    finally:
        os.umask(old_mask)

    assert made == [f"{VERSIONS}/2026", f"{VERSIONS}/2026/11"]
    assert snapshot(repo / VERSIONS) == {"2026/11/m.py": (b"revision = 'm'\n", 0o640)}
    assert stat.S_IMODE((repo / VERSIONS / "2026").stat().st_mode) == 0o750  # as os.makedirs: umask


def test_dry_run_names_the_folders_but_creates_none(repo):
    before = folders(repo)
    made: list[str] = []

    apply_plan(dated_plan(), repo, allowed_dirs=allowed(repo), dry_run=True, created_folders=made)

    assert made == [f"{VERSIONS}/2026", f"{VERSIONS}/2026/11"]
    assert folders(repo) == before


@pytest.mark.parametrize(
    "step, nth",
    [("mkdir", 2), ("write", 1), ("rename", 1), ("rename", 3)],
)
def test_a_failure_removes_the_folders_it_created_and_only_those(repo, step, nth):
    (repo / VERSIONS / "2026").mkdir()  # there before: stays
    plan = two_file_plan(repo)
    plan = EditPlan("merge", edits=dated_plan(f"{VERSIONS}/2026/11/12/m.py").edits + plan.edits)
    before, folders_before = snapshot(repo / VERSIONS), folders(repo)
    calls = []

    def fault(at, path):
        if at == step:
            calls.append(path)
            if len(calls) == nth:
                raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteError, match="No space left on device; every file was left as it was"):
        apply_plan(plan, repo, allowed_dirs=allowed(repo), _fault=fault)

    assert folders(repo) == folders_before
    assert snapshot(repo / VERSIONS) == before


def test_an_interrupt_after_mkdir_removes_the_folders_too(repo):
    def fault(at, path):
        if at == "write":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        apply_plan(dated_plan(), repo, allowed_dirs=allowed(repo), _fault=fault)

    assert folders(repo) == [VERSIONS.split("/")[0], VERSIONS]


def test_refuses_when_a_file_is_in_the_way_of_a_folder(repo):
    put(repo, f"{VERSIONS}/2026", b"not a folder\n")

    with pytest.raises(WriteError, match="2026 is in the way and is not a folder"):
        apply_plan(dated_plan(), repo, allowed_dirs=allowed(repo), dry_run=True)
    with pytest.raises(WriteError, match="2026 is in the way and is not a folder"):
        apply_plan(dated_plan(), repo, allowed_dirs=allowed(repo))

    assert folders(repo) == [VERSIONS.split("/")[0], VERSIONS]


@pytest.mark.parametrize(
    "rel, below",
    [
        (f"{VERSIONS}/2026/11/m.py", None),  # no location named: not alembic's folder to make
        (f"{VERSIONS}/2026/11/m.py", f"{VERSIONS}/2026/11"),  # the location itself is missing
        (f"{VERSIONS}/2026/11/m.py", f"{VERSIONS}/other"),  # the file is not below it
        (f"{VERSIONS}/2026/11/m.py", "migrations"),  # not a versions folder
        (f"{VERSIONS}/2026/11/m.py", f"{VERSIONS}/../{VERSIONS}"),
    ],
)
def test_creates_no_folder_outside_the_files_versions_location(repo, rel, below):
    (repo / VERSIONS / "other").mkdir()
    before = folders(repo)

    with pytest.raises(WriteError, match="does not exist"):
        apply_plan(dated_plan(rel, below), repo, allowed_dirs=allowed(repo))

    assert folders(repo) == before
