"""The one writer: applies an EditPlan atomically, all files or none.

Every new content goes to a temp file in the target's own folder (same mode
as the file it replaces, fsynced); only when all are staged are they renamed
into place. Each original is kept as a hard link (or copy) until the end, so
a failure at any step renames the originals back: every file ends exactly as
it was, and no temp file is left behind. A created file whose folder is
missing gets it, only below its ``FileEdit.folders_below`` (a merge
revision's versions location, as alembic creates it there); a failure
removes those folders again.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

from revgraph.errors import ConcurrentEditError, WriteError
from revgraph.fixes.plan import EditPlan, FileEdit

Fault = Callable[[str, str], None]

_TEMP_SUFFIX = ".revgraph-tmp"  # never ends in .py: alembic would not load a leftover


@dataclass
class _Target:
    edit: FileEdit
    path: Path  # symlinks resolved: the file that really changes
    temp: Path | None = None
    backup: Path | None = None  # the original, kept until the end
    replaced: bool = False
    missing: tuple[Path, ...] = ()  # folders to create for it, parents first


def apply_plan(
    plan: EditPlan,
    root: Path,
    *,
    allowed_dirs: Sequence[Path],
    dry_run: bool = False,
    created_folders: list[str] | None = None,
    _fault: Fault | None = None,
) -> list[str]:
    """Write the plan's edits under ``root``; returns the repo-relative paths written.

    Refuses (``WriteError``) any path outside ``allowed_dirs`` or leading out of
    the repository through a symlink, and (``ConcurrentEditError``) any file
    whose bytes are no longer those the plan was made from. With ``dry_run``
    the same checks run and nothing is written. ``created_folders``, when
    given, receives the repo-relative folders created (with ``dry_run``: that
    would be), parents first. ``_fault(step, path)`` is called before each
    mkdir, write and rename (tests inject failures with it).
    """
    root = Path(root)
    allowed = [(root / Path(d)).resolve() for d in allowed_dirs]
    targets = _resolve_targets(plan.edits, root, allowed)
    for target in targets:
        _check_unchanged(target, root, allowed)
    if created_folders is not None:
        root_real = root.resolve()
        planned = dict.fromkeys(folder for target in targets for folder in target.missing)
        created_folders.extend(folder.relative_to(root_real).as_posix() for folder in planned)
    if not dry_run and targets:
        _write_all(targets, _fault or _no_fault)
    return [target.edit.path for target in targets]


def _no_fault(step: str, path: str) -> None:
    return None


def existing_folder_above(root: Path, rel: str) -> str:
    """The folder nearest above ``rel``'s (a file to create, repo-relative POSIX) that
    exists, repo-relative ("" for ``root``): the ``FileEdit.folders_below`` of a file
    whose folders a setting names (``lock_file = "db/revgraph.lock"``)."""
    folder = PurePosixPath(rel).parent
    while folder != PurePosixPath(".") and not (Path(root) / folder).is_dir():
        folder = folder.parent
    return "" if folder == PurePosixPath(".") else folder.as_posix()


# ------------------------------------------------------------------ checks
def _resolve_targets(edits: Sequence[FileEdit], root: Path, allowed: Sequence[Path]) -> list[_Target]:
    root_real = root.resolve()
    targets: list[_Target] = []
    seen: set[Path] = set()
    for edit in edits:
        real = _real_path(edit.path, root, root_real, allowed)
        if real in seen:
            raise WriteError(f"the plan writes {edit.path} twice; nothing was written")
        seen.add(real)
        targets.append(_Target(edit, real))
    return targets


def _real_path(rel: str, root: Path, root_real: Path, allowed: Sequence[Path]) -> Path:
    posix = PurePosixPath(rel)
    if not rel or posix.is_absolute() or ".." in posix.parts:
        raise WriteError(f"refusing to write {rel!r}: not a path inside the repository")
    try:
        real = (root / posix).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
        raise WriteError(f"refusing to write {rel}: a loop of symbolic links stands on the way") from None
    if not real.is_relative_to(root_real):
        raise WriteError(
            f"refusing to write {rel}: a symlink leads it outside the repository (to {real})"
        )
    if not any(real == a or real.is_relative_to(a) for a in allowed):
        raise WriteError(f"refusing to write {rel}: it is outside the versions folders")
    if real.exists() and not real.is_file():
        raise WriteError(f"refusing to write {rel}: it is not a regular file")
    return real


def _check_unchanged(target: _Target, root: Path, allowed: Sequence[Path]) -> None:
    rel, path = target.edit.path, target.path
    if target.edit.old is None:
        if os.path.lexists(path):
            raise ConcurrentEditError(
                f"{rel} exists already (created since revgraph planned); nothing was written"
            )
        if not path.parent.is_dir():
            target.missing = _missing_folders(target, root, allowed)
        return
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        raise ConcurrentEditError(
            f"{rel} was deleted since revgraph read it; nothing was written"
        ) from None
    except OSError as exc:
        raise WriteError(f"cannot read {rel}: {_reason(exc)}; nothing was written") from exc
    if current != target.edit.old:
        raise ConcurrentEditError(f"{rel} changed since revgraph read it; nothing was written")


def _missing_folders(target: _Target, root: Path, allowed: Sequence[Path]) -> tuple[Path, ...]:
    """The folders to create for a new file, parents first, between its
    ``FileEdit.folders_below`` and it; refused without one.

    alembic's ``generate_revision`` makes a merge revision's folder
    (``os.makedirs``) whenever it is missing, whether or not
    ``recursive_version_locations`` is on: only between the versions location
    and the file, as the file_template puts it there. Anything else (no
    location given, the location missing or not an allowed folder, a file
    where a folder goes) is refused.
    """
    rel, path = target.edit.path, target.path
    refused = WriteError(f"cannot create {rel}: folder {path.parent} does not exist")
    below = target.edit.folders_below
    if below is None:
        raise refused
    posix = PurePosixPath(below)
    if posix.is_absolute() or ".." in posix.parts:
        raise refused
    location = (root / posix).resolve()
    if (
        not location.is_dir()
        or not any(location.is_relative_to(a) for a in allowed)
        or not path.parent.is_relative_to(location)
        or path.parent == location
    ):
        raise refused
    missing = []
    folder = path.parent
    while folder != location:
        if os.path.lexists(folder):
            if not folder.is_dir():
                raise _in_the_way(rel, folder)
            break
        missing.append(folder)
        folder = folder.parent
    return tuple(reversed(missing))


# ------------------------------------------------------------------ writing
def _write_all(targets: list[_Target], fault: Fault) -> None:
    step_path = ""
    made: list[Path] = []  # folders this run created, in order: removed again on failure
    try:
        for target in targets:
            step_path = target.edit.path
            _make_folders(target, made, fault)
            fault("write", step_path)
            _stage(target)
        for target in targets:
            step_path = target.edit.path
            fault("rename", step_path)
            _put_in_place(target)
            target.replaced = True
    except BaseException as exc:
        unrestored = _roll_back(targets)
        _remove_leftovers(targets, keep=unrestored)
        remove_folders(made)
        if not isinstance(exc, Exception):
            raise  # KeyboardInterrupt & co: rolled back, then let it through
        raise _failure(step_path, exc, unrestored) from exc
    _sync_folders(targets, made)
    _remove_leftovers(targets)


def _in_the_way(rel: str, folder: Path) -> WriteError:
    return WriteError(f"cannot create {rel}: {folder} is in the way and is not a folder")


def _make_folders(target: _Target, made: list[Path], fault: Fault) -> None:
    """Create the target's missing folders one by one, noting each one this run made."""
    for folder in target.missing:
        fault("mkdir", target.edit.path)
        try:
            os.mkdir(folder)  # mode 0o777 & ~umask, as alembic's os.makedirs
        except FileExistsError:
            if not folder.is_dir():
                raise _in_the_way(target.edit.path, folder) from None
            continue  # made meanwhile (or by an earlier target): not ours to remove
        made.append(folder)


def _stage(target: _Target) -> None:
    """Temp file with the new bytes and the original's mode; backup of the original."""
    path = target.path
    original = path.stat() if target.edit.old is not None else None
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
    target.temp = Path(temp)
    with os.fdopen(fd, "wb") as handle:
        handle.write(target.edit.new)
        handle.flush()
        os.fchmod(handle.fileno(), stat.S_IMODE(original.st_mode) if original else _new_file_mode())
        if original is not None:
            _keep_owner(handle.fileno(), original)
        os.fsync(handle.fileno())
    if original is not None:
        target.backup = _backup(path)
        # The backup is exactly what rollback restores: compare it, not the path.
        if target.backup.read_bytes() != target.edit.old:
            raise ConcurrentEditError(
                f"{target.edit.path} changed since revgraph read it; nothing was written"
            )


def _put_in_place(target: _Target) -> None:
    if target.edit.old is not None:
        # Last look right before the rename: someone may have saved the file
        # since it was staged. Refusing here rolls back every file, and
        # their edit survives (the backup is the same inode, or a copy).
        try:
            current = target.path.read_bytes()
        except OSError:
            current = None
        if current != target.edit.old:
            raise ConcurrentEditError(
                f"{target.edit.path} changed while revgraph was writing; every file was left as it was"
            )
        os.replace(target.temp, target.path)
        return
    # A created file must not replace one that appeared meanwhile: link fails if it exists.
    try:
        os.link(target.temp, target.path)
    except FileExistsError:
        raise ConcurrentEditError(
            f"{target.edit.path} exists already (created since revgraph planned); "
            "nothing was written"
        ) from None
    except OSError:
        os.replace(target.temp, target.path)  # no hard links here: plain rename
    # The temp name, if still there, goes with the other leftovers.


def _backup(path: Path) -> Path:
    """A second name for the original (a hard link, or a copy where links fail)."""
    for _ in range(100):
        backup = path.with_name(f".{path.name}.{secrets.token_hex(4)}.revgraph-orig")
        try:
            os.link(path, backup)  # same inode: free, and keeps mode and owner
            return backup
        except FileExistsError:
            continue
        except OSError:
            break
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".revgraph-orig", dir=path.parent)
    os.close(fd)
    shutil.copy2(path, name)
    return Path(name)


def _keep_owner(fd: int, original: os.stat_result) -> None:
    try:
        st = os.fstat(fd)
        if (st.st_uid, st.st_gid) != (original.st_uid, original.st_gid):
            os.fchown(fd, original.st_uid, original.st_gid)
    except OSError:
        pass  # not ours to give away; the content and mode are what matter


def _new_file_mode() -> int:
    return 0o666 & ~_umask()


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------- recovery
def _roll_back(targets: list[_Target]) -> list[_Target]:
    """Put every replaced file back; returns those that could not be restored."""
    unrestored = []
    for target in reversed(targets):
        if not target.replaced:
            continue
        try:
            if target.backup is not None:
                os.replace(target.backup, target.path)
                target.backup = None
            else:
                os.unlink(target.path)  # it was created by this plan
            target.replaced = False
        except OSError:
            unrestored.append(target)
    return unrestored


def _remove_leftovers(targets: list[_Target], *, keep: Sequence[_Target] = ()) -> None:
    """Delete temp files and backups, except the backups of files not restored."""
    for target in targets:
        leftovers = [target.temp]
        if not any(target is kept for kept in keep):
            leftovers.append(target.backup)
        for leftover in leftovers:
            if leftover is None:
                continue
            try:
                os.unlink(leftover)
            except OSError:
                pass  # already renamed into place, or gone


def remove_folders(made: Sequence[Path]) -> None:
    """Remove the folders a run created (``made``, parents first), deepest first;
    one no longer empty stays. ``install``'s undo removes a lock file's with it too."""
    for folder in reversed(made):
        try:
            os.rmdir(folder)
        except OSError:
            pass  # someone put a file there meanwhile: theirs, so is the folder


def _sync_folders(targets: list[_Target], made: Sequence[Path]) -> None:
    # A created folder's entry lives in its parent: sync that too.
    synced = {target.path.parent for target in targets} | {folder.parent for folder in made}
    for folder in synced:
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass  # some filesystems cannot fsync a folder; the renames are done
        finally:
            os.close(fd)


def _failure(rel: str, exc: BaseException, unrestored: list[_Target]) -> WriteError:
    if isinstance(exc, WriteError):
        base = exc.message
    else:
        base = f"could not write {rel}: {_reason(exc)}"
    if not unrestored:
        if isinstance(exc, WriteError):
            return type(exc)(base)
        return WriteError(f"{base}; every file was left as it was")
    kept = "; ".join(f"{t.edit.path} (original kept at {t.backup})" for t in unrestored)
    return WriteError(f"{base}; could not restore: {kept}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
