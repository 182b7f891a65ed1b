"""The snapshot a merge would produce, predicted from git objects only.

``predict_merge`` asks ``git merge-tree --write-tree`` (git >= 2.38) for the
merged tree. A conflicted file under the versions folders is replaced by both
sides' versions (index stages 2 and 3 from the conflict info), so the graph
shows both revisions rather than a file full of conflict markers. Older git,
or a merge-tree that cannot run (unrelated histories), falls back to
``union_merge``: a three-way union by path against the merge base.

Uncommitted changes count as part of HEAD (PRODUCT §1). To merge them too,
``worktree_commit`` writes the working tree's versions folders as a tree with
a *temporary* index file (a copy of the real index, or HEAD, then ``git add
-A -- <folders>`` and ``git write-tree`` under ``GIT_INDEX_FILE=<tmp>``) and
wraps it in a commit whose parent is HEAD (``git commit-tree``) that no ref
names. Only new objects are written to the object database; no ref moves,
and the real index and the working tree are untouched. Files ignored by ``.gitignore`` are not part
of that tree.

For reading HEAD with its uncommitted edits, the working-tree snapshot *is*
HEAD plus edits: ``read_head_with_worktree`` returns it (with HEAD's commit),
or HEAD's snapshot in a bare repository.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Mapping, Sequence

from revgraph.model import Snapshot
from revgraph.sources.cache import ParseCache
from revgraph.sources.gitref import (
    _SUBMODULE_MODE,
    GitRepo,
    TreeEntry,
    build_snapshot,
    folder_pathspecs,
    git_version,
)

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment

_FIXED_IDENTITY = {
    "GIT_AUTHOR_NAME": "revgraph",
    "GIT_AUTHOR_EMAIL": "revgraph@localhost",
    "GIT_COMMITTER_NAME": "revgraph",
    "GIT_COMMITTER_EMAIL": "revgraph@localhost",
    # Fixed dates: the same working tree always gives the same commit id.
    "GIT_AUTHOR_DATE": "1970-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "1970-01-01T00:00:00+0000",
}


def predict_merge(
    repo: GitRepo,
    env: Environment,
    ours: str,
    theirs: str,
    *,
    label: str | None = None,
    cache: ParseCache | None = None,
    worktree: bool = True,
) -> Snapshot:
    """``env``'s revisions after merging ``theirs`` into ``ours``.

    ``worktree=True`` adds the uncommitted edits of the versions folders to
    ``ours`` when ``ours`` is the checked-out HEAD (ignored otherwise).
    """
    label = label or f"merge of {theirs} into {ours}"
    ours_sha = repo.resolve(ours)
    theirs_sha = repo.resolve(theirs)
    if worktree and repo.root is not None and ours_sha == repo.head_sha():
        ours_sha = worktree_commit(repo, env)
    merged = merge_tree(repo, ours_sha, theirs_sha) if git_version() >= (2, 38) else None
    if merged is None:
        return union_merge(repo, env, ours_sha, theirs_sha, label=label, cache=cache)
    tree, conflicts = merged
    env = _settings_of_a_conflicted_config(repo, env, conflicts, ours_sha, theirs_sha)
    folders = repo.folders(env)
    if _submodule_conflict(conflicts, folders):
        # Both sides moved the submodule holding the folders: merge-tree keeps
        # ours' gitlink, which would drop theirs' revisions. The union by path
        # reads each side's files through the submodule.
        return union_merge(repo, env, ours_sha, theirs_sha, label=label, cache=cache)
    overrides = _both_sides(conflicts, folders)
    if any(stage in (2, 3) for _, stage in conflicts) and len(overrides) < len(_both_sides(conflicts, [""])):
        # Conflicts outside the folders (the lock file, say) may still be revision
        # files: those of a folder behind a symlink, under the path it leads to.
        overrides = _both_sides(conflicts, repo.real_folders(tree, folders, label=label))
    return repo.tree_snapshot(
        env, folders, tree, source=label, commit=None, cache=cache, overrides=overrides,
    )  # fmt: skip


def _settings_of_a_conflicted_config(
    repo: GitRepo, env: Environment, conflicts: Sequence[tuple[TreeEntry, int]], ours: str, theirs: str
) -> Environment:
    """``env`` placed as both sides' configs place revisions, when the merge conflicts
    in a config file (``env`` itself otherwise).

    The merged copy holds conflict markers, so its settings cannot be read, and the
    merged tree was read with the working tree's: a versions folder base added went
    unseen, and ``check`` said "All good" over two heads (both sides had bumped a
    version in pyproject.toml). Until the user resolves it, the merge is read with
    every folder either side names.
    """
    if repo.settings_at is None or repo.root is None:
        return env
    from revgraph.sources.refsettings import config_files

    conflicted = {entry.path for entry, stage in conflicts if stage}
    if not any(relative in conflicted for _, relative in config_files(env, repo.root)):
        return env
    sides = [repo.settings_at(env, ours), repo.settings_at(env, theirs)]
    if sides[0] == sides[1]:
        return sides[0]
    return dataclasses.replace(
        sides[0],
        version_locations=tuple(dict.fromkeys(sides[0].version_locations + sides[1].version_locations)),
        recursive=sides[0].recursive or sides[1].recursive,
        sourceless=sides[0].sourceless or sides[1].sourceless,
    )


def merge_tree(
    repo: GitRepo, ours: str, theirs: str
) -> tuple[str, list[tuple[TreeEntry, int]]] | None:
    """``git merge-tree --write-tree``: the merged tree id and the conflicted entries.

    None when git cannot merge the two (e.g. unrelated histories).
    """
    done = repo.git(*_merge_tree_args(ours, theirs), ok=range(256))
    if done.returncode not in (0, 1):
        return None
    records = done.stdout.split(b"\0")
    tree = records[0].decode().strip()
    conflicts = []
    for record in records[1:]:
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, oid, stage = meta.decode().split(" ")
        entry = TreeEntry(mode, oid, raw_path.decode("utf-8", "surrogateescape"))
        conflicts.append((entry, int(stage)))
    return tree, conflicts


def _merge_tree_args(ours: str, theirs: str) -> tuple[str, ...]:
    return ("merge-tree", "--write-tree", "--no-messages", "-z", ours, theirs)


def prefetch_merge(repo: GitRepo, folders: Sequence[str], head: str, theirs: str) -> None:
    """Start what ``predict_merge(repo, env, HEAD, theirs)`` runs first (``GitRepo.prefetch``).

    The clean-tree test, and the merge of HEAD itself, which that test
    usually lets stand for the working tree (if not, it was wasted work).
    """
    folders = on_disk(repo, folders)
    repo.prefetch(*_STAGED_ARGS)
    repo.prefetch(*_status_args(folders))
    repo.prefetch_marked(folders)
    if git_version() >= (2, 38):
        repo.prefetch(*_merge_tree_args(head, theirs))


def changes_args(merge_base: str, side: str) -> tuple[str, ...]:
    """``git diff-tree`` listing what one side changed since the merge base: without a file
    deleted, git's merge sees no rename on that side (``resultcache._side_changes``)."""
    return ("diff-tree", "-r", "-z", "--no-renames", "--name-status", merge_base, side)


def _submodule_conflict(conflicts: Sequence[tuple[TreeEntry, int]], folders: Sequence[str]) -> bool:
    """Whether a conflicted gitlink (a submodule both sides moved) holds one of ``folders``."""
    links = {entry.path for entry, _ in conflicts if entry.mode == _SUBMODULE_MODE}
    return any(folder == link or folder.startswith(f"{link}/") for link in links for folder in folders)


def _both_sides(
    conflicts: Sequence[tuple[TreeEntry, int]], folders: Sequence[str]
) -> dict[str, list[TreeEntry]]:
    """Conflicted paths under ``folders`` -> ours' then theirs' entry."""
    prefixes = tuple(f"{f}/" for f in folders if f)
    everywhere = any(not f for f in folders)
    sides: dict[str, list[TreeEntry]] = {}
    for entry, stage in sorted(conflicts, key=lambda item: item[1]):
        if stage in (2, 3) and (everywhere or entry.path.startswith(prefixes)):
            sides.setdefault(entry.path, []).append(entry)
    return sides


def union_merge(
    repo: GitRepo,
    env: Environment,
    ours: str,
    theirs: str,
    *,
    base: str | None = None,
    label: str | None = None,
    cache: ParseCache | None = None,
) -> Snapshot:
    """A three-way union by path against the merge base (no rename detection).

    A path changed on one side only takes that side; changed on both sides
    differently, both versions are kept (as merge-tree conflicts are).
    """
    ours_sha = repo.resolve(ours)
    theirs_sha = repo.resolve(theirs)
    base_sha = repo.resolve(base) if base else repo.merge_base(ours_sha, theirs_sha)
    folders = repo.folders(env)
    label = label or f"merge of {theirs} into {ours}"
    sides = []
    listed: dict[str, None] = {}  # the folders read, symlinks on the way followed on each side
    for sha in (base_sha, ours_sha, theirs_sha):
        if not sha:
            sides.append({})
            continue
        entries, used = repo.listing_at(sha, folders, label=label)
        sides.append(_by_path(entries))
        listed.update(dict.fromkeys(used))
    entries = _three_way(*sides)
    return build_snapshot(
        repo, env, tuple(listed) or folders, entries, source=label,
        commit=None, cache=cache, treeish=ours_sha,
    )  # fmt: skip


def _by_path(entries: Sequence[TreeEntry]) -> dict[str, TreeEntry]:
    return {entry.path: entry for entry in entries}


def _three_way(
    base: Mapping[str, TreeEntry], ours: Mapping[str, TreeEntry], theirs: Mapping[str, TreeEntry]
) -> dict[str, list[TreeEntry]]:
    merged: dict[str, list[TreeEntry]] = {}
    for path in sorted({*base, *ours, *theirs}):
        o, t, b = ours.get(path), theirs.get(path), base.get(path)
        if o == t or t == b:
            chosen = [o]
        elif o == b:
            chosen = [t]
        else:
            chosen = [o, t]
        kept = [entry for entry in chosen if entry is not None]
        if kept:
            merged[path] = kept
    return merged


# ------------------------------------------------------ uncommitted changes
def worktree_commit(repo: GitRepo, env: Environment) -> str:
    """A commit holding HEAD plus the working tree's versions folders (HEAD itself if unchanged).

    Written through a temporary index file; the real index and the working
    tree are not touched, no ref moves.
    """
    head = repo.head_sha()
    changed = _changes(repo, on_disk(repo, repo.folders(env))) if head is not None else None
    configs = edited_configs(repo, env) if head is not None else []
    if changed == [] and not configs:
        return head
    tree = worktree_tree(repo, env, changed=changed, configs=configs)
    if head is not None and tree == repo.resolve_tree(head):
        return head
    parents = ["-p", head] if head else []
    done = repo.git(
        "commit-tree", tree, *parents, "-m", "revgraph: working tree", env=_FIXED_IDENTITY
    )
    return done.stdout.decode().strip()


def on_disk(repo: GitRepo, folders: Sequence[str]) -> tuple[str, ...]:
    """``folders`` as the working tree really holds them, symlinks on the way followed
    (``os.path.realpath``), where git can see them: git will not add nor report a path
    beyond a symbolic link, and a linked versions folder's files live where it leads.
    A folder that leads out of the repository is left as it is. File paths work too
    (``fix`` stages what it wrote): a file link leads to the file written through it."""
    if repo.root is None:
        return tuple(folders)
    root = os.path.realpath(repo.root)
    found = []
    for folder in folders:
        real = os.path.realpath(os.path.join(root, folder)) if folder else root
        relative = os.path.relpath(real, root).replace(os.sep, "/")
        if relative == ".":
            found.append("")
        elif relative == ".." or relative.startswith("../"):
            found.append(folder)
        else:
            found.append(relative)
    return tuple(found)


def _clean(repo: GitRepo, folders: Sequence[str]) -> bool:
    """Whether ``worktree_tree`` would give HEAD's tree, asked without writing an index."""
    return _changes(repo, folders) == []


def _changes(repo: GitRepo, folders: Sequence[str]) -> list[bytes] | None:
    """The paths in which the folders on disk differ from HEAD; None when that is not known.

    Known when the real index equals HEAD (no staged change anywhere: the
    temporary index starts as a copy of the real one): then ``git status``
    lists exactly the files ``git add -A`` would pick up in the folders (it
    skips ignored files, as status does). ``[]``: ``worktree_tree`` would
    give HEAD's tree. At 20k files this is two quick reads instead of
    copying the index and re-hashing the folders through it; with a few
    edits, only the edited paths are hashed. None for an untracked folder
    listed as one entry (a nested repository).
    """
    staged = repo.git(*_STAGED_ARGS, ok=range(256))
    if staged.returncode != 0:
        # Not needed now: a prefetched status left pending would answer the next
        # clean-tree question in this process with the tree as it was then.
        repo.discard_prefetched(*_status_args(folders))
        return None
    status = repo.git(*_status_args(folders), ok=range(256))
    if status.returncode != 0 or repo.marked_paths(folders) != []:
        return None  # status cannot vouch for every file: stage the folders
    # -z records are "XY path" (no rename pairs: --no-renames).
    paths = [record[3:] for record in status.stdout.split(b"\0") if record]
    if any(not path or path.endswith(b"/") for path in paths):
        return None
    return paths


_STAGED_ARGS = ("diff-index", "--cached", "--quiet", "HEAD", "--")


def _status_args(folders: Sequence[str]) -> tuple[str, ...]:
    return ("status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--",
            *folder_pathspecs(folders))  # fmt: skip


def worktree_tree(
    repo: GitRepo, env: Environment, *, changed: Sequence[bytes] | None = None, configs: Sequence[str] = ()
) -> str:
    """The tree id of HEAD's (or the index's) tree with the versions folders as on disk.

    ``changed``: the paths ``_changes`` found (the real index equals HEAD):
    only those are written into the copy of the index, instead of staging
    the whole folders. ``configs``: the environment's config files edited
    since HEAD (``edited_configs``), written as on disk too.
    """
    assert repo.root is not None, "a bare repository has no working tree"
    folders = on_disk(repo, repo.folders(env))
    scratch = tempfile.mkdtemp(prefix="revgraph-index-")
    temp_index = os.path.join(scratch, "index")
    paths = [*changed, *map(os.fsencode, configs)] if changed is not None else []
    try:
        tree = _tree_with_paths(repo, paths, temp_index) if paths else None
        if tree is None:
            tree = _tree_with_index(repo, folders, temp_index, copy_real=True, files=configs)
        if tree is None:  # the real index is mid-conflict: start from HEAD instead
            tree = _tree_with_index(repo, folders, temp_index, copy_real=False, files=configs)
        assert tree is not None
        return tree
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _tree_with_paths(repo: GitRepo, paths: Sequence[bytes], temp_index: str) -> str | None:
    """The real index's tree with ``paths`` as on disk (added, updated or removed); None if git refuses.

    ``update-index --add --remove`` hashes each path as ``git add`` does
    (filters and line endings included) and drops the ones gone from disk.
    """
    environ = {"GIT_INDEX_FILE": temp_index}
    if not _copy_real_index(repo, temp_index):
        return None
    stdin = b"".join(path + b"\0" for path in paths)
    done = repo.git("update-index", "--add", "--remove", "-z", "--stdin", input=stdin, env=environ,
                    ok=range(256))  # fmt: skip
    if done.returncode != 0:  # e.g. a file replaced by a folder of files: stage the folders instead
        return None
    return _write_tree(repo, environ)


def _copy_real_index(repo: GitRepo, temp_index: str) -> bool:
    """Copy the real index to ``temp_index``; False when there is none."""
    if os.path.exists(temp_index):
        os.unlink(temp_index)
    real_index = _real_index_path(repo)
    if not os.path.isfile(real_index):
        return False
    # A copy keeps stat data: `git add` then only re-hashes changed files.
    shutil.copyfile(real_index, temp_index)
    # ... and the index file's own mtime, which git's racy-entry check
    # compares each entry with: git compares file times to the second, so
    # a file edited in the second of its checkout keeping size and mtime
    # looks clean against an index file written a second later.
    real = os.stat(real_index)
    os.utime(temp_index, ns=(real.st_atime_ns, real.st_mtime_ns))
    return True


def _look_at_hidden(repo: GitRepo, folders: Sequence[str], environ: Mapping[str, str]) -> None:
    """Clear, in the copy of the index, the marks that make ``git add`` skip a file.

    An assume-unchanged entry would keep its staged content whatever the file
    holds; so would a skip-worktree entry whose file is on disk (alembic
    loads it). Only the copy changes: the real index keeps its marks.
    """
    hidden = repo.marked_paths(folders) or []
    if not hidden:
        return
    root = str(repo.root)
    stdin = b"".join(path + b"\0" for path in hidden)
    repo.git("update-index", "--no-assume-unchanged", "-z", "--stdin", input=stdin, env=environ)
    on_disk = b"".join(path + b"\0" for path in hidden if os.path.lexists(os.path.join(root, os.fsdecode(path))))
    if on_disk:
        repo.git("update-index", "--no-skip-worktree", "-z", "--stdin", input=on_disk, env=environ)


def _tree_with_index(
    repo: GitRepo, folders: Sequence[str], temp_index: str, *, copy_real: bool, files: Sequence[str] = ()
) -> str | None:
    environ = {"GIT_INDEX_FILE": temp_index}
    if copy_real and _copy_real_index(repo, temp_index):
        _look_at_hidden(repo, folders, environ)
    else:
        if os.path.exists(temp_index):
            os.unlink(temp_index)
        if repo.head_sha() is not None:
            repo.git("read-tree", "HEAD", env=environ)
        else:
            repo.git("read-tree", "--empty", env=environ)
    for folder in folders or [""]:
        on_disk = os.path.isdir(os.path.join(str(repo.root), folder))
        spec = folder or "."
        if on_disk:
            repo.git("add", "-A", "--", spec, env=environ)
        else:
            repo.git("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", spec, env=environ)
    if files:  # tracked at HEAD (``edited_configs``): -A stages an edit and a deletion alike
        repo.git("add", "-A", "--", *files, env=environ)
    return _write_tree(repo, environ)


def edited_configs(repo: GitRepo, env: Environment) -> list[str]:
    """``env``'s config files (an ini's pyproject.toml too) whose working-tree bytes differ
    from HEAD's, as paths in the repository; only those HEAD holds.

    The predicted merge reads the merged tree with the settings that tree holds
    (``refsettings``): without the working tree's edit of alembic.ini (recursion
    turned on, files moved into year folders, not committed yet), the merge read
    the moved files with HEAD's settings, and ``check`` reported revisions gone.
    A config HEAD lacks (kept out of git) is read from the working tree anyway.
    None of them when the edits move no revision (asked first: the common case).
    """
    from revgraph.sources.refsettings import config_files, same_config_text

    assert repo.root is not None
    if repo.settings_at is not None and repo.settings_at.resolve(env, "HEAD") == (env, None):
        # No edit that moves a revision (HEAD's copies place them as the working
        # tree's do, or are the same bytes): a version bump, a dependency. HEAD's
        # copies then say the same for the merge, and they merge with base's as
        # committed work does: the edited copy may conflict with base's change of
        # those lines, and a merged config that cannot be read was read with the
        # working tree's settings, base's new versions folder unseen ("All good"
        # over two heads).
        return []
    files = config_files(env, repo.root)
    if not files:
        return []
    blobs = list(repo.blobs([f"HEAD:{relative}" for _, relative in files]))
    edited = []
    for (path, relative), blob in zip(files, blobs):
        if blob.status != "ok":
            continue
        try:
            here = path.read_bytes()
        except FileNotFoundError:
            here = None  # deleted: the merge lacks it too
        except OSError:
            continue
        if not same_config_text(here, blob.data):
            edited.append(relative)
    return edited


def _write_tree(repo: GitRepo, environ: dict[str, str]) -> str | None:
    """The tree id of the temporary index ``environ`` names; None if git refuses (a conflict)."""
    done = repo.git("write-tree", env=environ, ok=range(256))
    return done.stdout.decode().strip() if done.returncode == 0 else None


def _real_index_path(repo: GitRepo) -> str:
    out = (
        repo.git("rev-parse", "--git-path", "index")
        .stdout.decode("utf-8", "surrogateescape")
        .strip()
    )
    return out if os.path.isabs(out) else os.path.join(repo._cwd, out)


def read_head_with_worktree(
    repo: GitRepo, env: Environment, *, cache: ParseCache | None = None
) -> Snapshot:
    """HEAD as the user sees it: the working tree (edits included); HEAD's snapshot when bare."""
    from revgraph.sources.worktree import read_worktree

    if repo.root is None:
        return repo.read_ref(env, "HEAD", cache=cache)
    if cache is None:
        from revgraph.sources.cache import ParseCache

        cache = ParseCache(None, object_format=repo.object_format)  # ids as the repository's
    snapshot = read_worktree(env, repo.root, cache=cache)
    return dataclasses.replace(snapshot, commit=repo.head_sha())


# The name the design notes use for the same thing.
with_worktree_changes = read_head_with_worktree
