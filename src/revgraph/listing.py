"""Which files of a versions folder are revision files, decided like alembic.

Pure: the caller gives the file paths it found (on disk, in a git tree or in
the index) and gets back the revision files in alembic's load order.

This mirrors ``alembic.script.base.Script._list_py_dir`` and
``Script._from_path`` (alembic 1.13 - 1.16):

* the walk is top-down; in each folder the files come first, sorted by name,
  then the sub-folders, sorted (only when ``recursive``);
* files directly inside a folder whose name ends with ``__pycache__`` are
  skipped (but, as in alembic, the walk still descends below such a folder);
* ``sourceless``: each folder's ``__pycache__`` entries are added when no file
  of the folder has the same stem; a ``.pyc`` is taken only when its ``.py``
  is absent, a ``.pyo`` only when neither ``.py`` nor ``.pyc`` exists;
* a name must match ``(?!\\.\\#|__init__)(.*\\.py)$`` (``.py[co]?`` when
  sourceless): editor lock files ``.#x.py`` and ``__init__*`` are skipped;
* a file met twice (overlapping version locations, or two symlinks to one
  file) is loaded once, at its first place; the name test runs on the real
  (symlink-resolved) path, as alembic resolves before testing.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from itertools import repeat
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

# alembic/script/base.py
_SOURCELESS_REV_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)(c|o)?$")
_ONLY_SOURCE_REV_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")

SOURCE = "source"
COMPILED = "compiled"  # a .pyc/.pyo alembic would import: revgraph reads source only
UNRESOLVED = "unresolved"  # a symlink that cannot be followed (broken, loop, leaves root)

COMPILED_REASON = "compiled-only revision file; revgraph reads source only"


class ListedFile(NamedTuple):
    path: str  # the real path (symlinks resolved), POSIX, relative to the root
    listed_as: str  # the path as met in the versions folder
    kind: str  # SOURCE | COMPILED | UNRESOLVED


@dataclass
class _Folder:
    files: list[str] = field(default_factory=list)
    dirs: dict[str, "_Folder"] = field(default_factory=dict)


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def normalize_location(location: str) -> str:
    """A location as a clean POSIX prefix: ``""`` for the root itself."""
    cleaned = posixpath.normpath(location.replace("\\", "/")) if location else ""
    return "" if cleaned == "." else cleaned


def _build_tree(location: str, files: Iterable[str]) -> _Folder | None:
    """The folder tree below ``location``; None when nothing lies below it."""
    top = _Folder()
    prefix = f"{location}/" if location else ""
    cut = len(prefix)
    found = False
    for path in files:
        if prefix and not path.startswith(prefix):
            continue
        rest = path[cut:]
        if "/" not in rest:  # the common case: a file directly in the folder
            if rest:
                top.files.append(rest)
                found = True
            continue
        parts = _split(rest)
        if not parts:
            continue
        found = True
        folder = top
        for part in parts[:-1]:
            folder = folder.dirs.setdefault(part, _Folder())
        folder.files.append(parts[-1])
    return top if found else None


def _walk(folder: _Folder, path: str) -> Iterator[tuple[str, _Folder, list[str], list[str]]]:
    """``os.walk(top_down=True)`` over the virtual tree (callers may prune ``dirs``)."""
    dirs = sorted(folder.dirs)
    yield path, folder, dirs, sorted(set(folder.files))
    for name in dirs:
        yield from _walk(folder.dirs[name], _join(path, name))


def skips_its_files(folder: str) -> bool:
    """Whether alembic skips the files directly in ``folder`` (its name ends with ``__pycache__``)."""
    return folder.rsplit("/", 1)[-1].endswith("__pycache__")


def _candidates(location: str, tree: _Folder, recursive: bool, sourceless: bool) -> list[str]:
    """``Script._list_py_dir``: every path alembic would consider, in its order."""
    paths: list[str] = []
    for root, folder, dirs, files in _walk(tree, location):
        if skips_its_files(root):
            continue
        paths.extend(_join(root, name) for name in files)
        if sourceless and "__pycache__" in folder.dirs:
            stems = {name.split(".")[0] for name in files}
            cache = folder.dirs["__pycache__"]
            paths.extend(
                _join(_join(root, "__pycache__"), name)
                for name in sorted(set(cache.files))
                if name.split(".")[0] not in stems
            )
        if not recursive:
            break
        dirs.sort()
    return paths


def _kind_of(path: str, sourceless: bool, exists: Callable[[str], bool]) -> str | None:
    """``Script._from_path``'s name rules: SOURCE, COMPILED or None (not a revision)."""
    folder, _, name = path.rpartition("/")
    pattern = _SOURCELESS_REV_FILE if sourceless else _ONLY_SOURCE_REV_FILE
    match = pattern.match(name)
    if not match:
        return None
    suffix = match.group(2) if sourceless else None
    if suffix is None:
        return SOURCE
    py_name = match.group(1)
    if exists(_join(folder, py_name)) or (suffix == "o" and exists(_join(folder, py_name + "c"))):
        return None
    return COMPILED


def _exists_in(files: Sequence[str]) -> Callable[[str], bool]:
    """``exists`` over a list of files and their folders, built on first use (sourceless only)."""
    known: set[str] = set()

    def exists(path: str) -> bool:
        if not known:
            for file in files:
                parts = _split(file)
                for i in range(1, len(parts) + 1):
                    known.add("/".join(parts[:i]))
        return path in known

    return exists


def list_revision_files(
    locations: Sequence[str],
    files: Iterable[str],
    *,
    recursive: bool = False,
    sourceless: bool = False,
    resolved: Mapping[str, str | None] | None = None,
    exists: Callable[[str], bool] | None = None,
) -> list[ListedFile]:
    """The revision files among ``files``, in alembic's load order.

    ``locations``: the version locations, POSIX paths relative to the root
    (``""`` = the root). ``files``: paths of the files found below them.
    ``resolved``: for symlinks only, the real path relative to the root, or
    None when the link cannot be followed. ``exists``: whether a path exists
    (for the ``.pyc``-beside-``.py`` rule); defaults to "is one of ``files``
    or a folder of them".
    """
    files = list(files)
    resolved = resolved or {}
    if not resolved and not sourceless and not recursive:
        return _list_flat(locations, files)
    return _list_walk(locations, files, recursive=recursive, sourceless=sourceless, resolved=resolved,
                      exists=exists)  # fmt: skip


def _list_walk(
    locations: Sequence[str],
    files: list[str],
    *,
    recursive: bool,
    sourceless: bool,
    resolved: Mapping[str, str | None],
    exists: Callable[[str], bool] | None,
) -> list[ListedFile]:
    """The general case: alembic's walk over the folder tree the files make."""
    exists = exists or _exists_in(files + [p for p in resolved.values() if p])
    listed: list[ListedFile] = []
    seen: set[str] = set()
    # No symlinks and no .pyc rules (the usual layout): the name test alone
    # decides, without a ListedFile per rejected name or an exists() probe.
    plain = not resolved and not sourceless
    match = _ONLY_SOURCE_REV_FILE.match
    for location in dict.fromkeys(normalize_location(loc) for loc in locations):
        tree = _build_tree(location, files)
        if tree is None:
            continue
        for path in _candidates(location, tree, recursive, sourceless):
            if plain:
                if path not in seen and match(path, path.rfind("/") + 1):
                    seen.add(path)
                    listed.append(ListedFile(path, path, SOURCE))
                continue
            entry = _classify(path, resolved, sourceless, exists)
            if entry is None:
                continue
            key = entry.path if entry.kind != UNRESOLVED else entry.listed_as
            if key in seen:
                continue
            seen.add(key)
            listed.append(entry)
    return listed


_new_listed = tuple.__new__  # NamedTuple's __new__ is Python code: 20k files per listing


def _list_flat(locations: Sequence[str], files: list[str]) -> list[ListedFile]:
    """``list_revision_files`` when nothing is recursive, sourceless or a symlink.

    The usual layout, met four times per check at 20k files: only the files
    directly in each location count, sorted by name, each judged by its name
    alone. Same answer as the general walk (property-tested), without
    building the folder tree.
    """
    listed: list[ListedFile] = []
    seen: set[str] = set()
    match = _ONLY_SOURCE_REV_FILE.match
    for location in dict.fromkeys(normalize_location(loc) for loc in locations):
        if skips_its_files(location):
            continue
        prefix = f"{location}/" if location else ""
        cut = len(prefix)
        inside = [path[cut:] for path in files if path.startswith(prefix)] if prefix else files
        if "/" in "\0".join(inside):  # some in a sub-folder, unless the slashes are empty or "." parts
            names = set()
            for name in inside:
                if "/" in name:
                    parts = _split(name)
                    if len(parts) != 1:
                        continue
                    name = parts[0]
                names.add(name)
        else:
            names = set(inside)
        names.discard("")
        paths = [prefix + name for name in sorted(names) if match(name)]
        if seen:  # a location listed twice under two spellings, or nested in another
            paths = [path for path in paths if path not in seen]
        seen.update(paths)
        listed.extend(map(_new_listed, repeat(ListedFile), zip(paths, paths, repeat(SOURCE))))  # one C loop
    return listed


def _classify(
    path: str,
    resolved: Mapping[str, str | None],
    sourceless: bool,
    exists: Callable[[str], bool],
) -> ListedFile | None:
    if path in resolved:
        real = resolved[path]
        if real is None:
            # Cannot follow it: judge by the link's own name so that a
            # broken README symlink stays silent but a broken x.py is reported.
            return (
                ListedFile(path, path, UNRESOLVED) if _kind_of(path, sourceless, exists) else None
            )
    else:
        real = path
    kind = _kind_of(real, sourceless, exists)
    return ListedFile(real, path, kind) if kind else None
