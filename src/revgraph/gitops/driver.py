"""The git merge driver for the heads lock file (PRODUCT §5).

git calls ``revgraph merge-driver %O %A %B %P`` with temporary files holding
the ancestor's, ours and theirs' versions of the lock file; we must leave the
result in ``%A`` and exit 0 (merged cleanly) or 1 (conflict).

Decisions, cheapest first, so the common cases never import GitPython,
networkx or alembic:

1. both sides record the same heads (e.g. both carry the same new revision)
   -> ours, clean; unless a head new to both sides has a message of its own on
   each (``ids_added_twice``: one id, two files), which goes to 3;
2. only one side changed the heads -> that side, clean;
3. both changed: if git tells us which commit is coming in (``GITHEAD_<sha>``
   during ``git merge``; ``rebase-merge/done`` during a rebase; either only
   when the lock files git hands over are HEAD's and that commit's,
   ``_locks_come_from``) take the
   union of both sides' revisions (read from git objects, statically, never
   executed): when it is healthy (every file readable, no revision id
   declared by two files (RG103: within a side, or by each side at different
   paths both new since the merge base), nothing dangling, no cycle, no
   branch label declared twice or equal to a revision id (RG106), and RG101, ``checks.graph.competing_heads``, silent whichever side
   is taken as the base: the driver cannot tell which side has landed) the
   lock lists the union's heads, as ``revgraph lock`` would write them.
   Counting heads is not enough: a merge revision on one side and a revision
   on its old head on the other leave no more heads than a side had, yet two
   heads on one line. ``gitops.union`` decides
   this exactly from ours' listing, what differs between the two trees and
   a small index of facts per blob (git reads the trees while the driver
   starts, from a memo of the last run's read); what it cannot
   decide exactly goes to the reference, ``union_of`` over both sides read
   whole. The lock files' own claims are never trusted here: only the trees
   are read. What the merge deletes is told against the commit git merges
   against: the merge base, or for a rebase's pick the picked commit's
   parent (a pick applies the commit's own change, not its parent's files:
   after `rebase -i` dropped or reordered a commit adding a revision, the
   picked child's parent is not in the merged tree);
4. otherwise a conflict whose text names both sides' new revisions and says
   ``revgraph fix``: each new head, and when a step 3 read the trees and a
   side added a chain, the chain's first revision (what ``fix`` re-points).
   When step 3 found a down_revision the merged tree lacks (its file deleted
   by one side since the merge base, say), the text names it instead and
   says to re-point it and run ``revgraph lock``: ``fix`` refuses that graph.
   When git did not say what it applies (``git revert``, ``cherry-pick``),
   HEAD's revision files tell two more shapes (``applied_shape``): theirs'
   new head is a revision HEAD already has, so theirs went back (a revert):
   the text names what it deletes and what would dangle; or HEAD has neither
   theirs' new head nor the ancestor's head it grew from (a pick of a commit
   without the one before it): the text names what is missing.

The driver writes only the file git gave it (``%A``), atomically.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from revgraph.lockfile import (
    LockEntry, LockFile, clean_message, detect_newline, is_lock_text, parse_lock, render_lock,
)  # fmt: skip


def _read(path: str | None) -> bytes:
    if not path:
        return b""
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""  # git passes an empty ancestor when there is none


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.revgraph-{os.getpid()}")
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o644
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        # Never leave the temporary copy beside the user's file.
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _describe(entries, ids, new=None) -> tuple[list[str], bool]:
    """Each head in ``ids`` with its message, and whether any is a chain. With ``new`` (the
    side's revisions the other lacks, id -> (down_revisions, message)), a head whose new
    chain is longer than itself also names where the chain starts: what ``revgraph fix``
    re-points."""
    by_id = {e.revision: e for e in entries}
    out = []
    chained = False
    for rid in ids:
        text = f"{rid} ({by_id[rid].message})" if by_id.get(rid) and by_id[rid].message else rid
        roots = chain_roots(rid, new) if new else ()
        if roots and roots != (rid,):
            # One comment line, whatever the docstrings; a line that forked long ago and
            # was joined by merges may start in many places: the first few tell.
            named = [(r, clean_message(new[r][1])) for r in roots[:_ROOTS_SHOWN]]
            text += ", chain from " + ", ".join(f"{r} ({message})" if message else r for r, message in named)
            if len(roots) > _ROOTS_SHOWN:
                text += f" and {len(roots) - _ROOTS_SHOWN} more"
            chained = True
        out.append(text)
    return out, chained


_ROOTS_SHOWN = 3


def _heads_before(ancestor: LockFile, ours: LockFile, theirs: LockFile) -> set[str]:
    """The heads both sides started from: the ancestor lock's, or, when the merge base
    had no lock file (both sides created it), the heads both sides record. A tester:
    the reporting line's old head was named as each side's new revision."""
    if ancestor.heads:
        return set(ancestor.heads)
    return set(ours.heads) & set(theirs.heads)


def both_began_histories(ancestor: LockFile, ours: LockFile, theirs: LockFile, new: tuple = ()) -> bool:
    """Whether each side's new heads grow only from revisions with no down_revision (read
    from the trees: ``new``, as in ``conflict_text``): the race on a project's first
    migration, which no rebase can settle (a base has nothing to be re-pointed from)."""
    if not new:
        return False
    base = _heads_before(ancestor, ours, theirs)
    for side, only in zip((ours, theirs), new):
        heads = [h for h in side.heads if h not in base]
        roots = [root for head in heads for root in chain_roots(head, only or {})]
        if not roots or any(only[root][0] for root in roots):
            return False
    return True


def chain_roots(head: str, new) -> tuple[str, ...]:
    """The first revisions of ``head``'s new chain: its ancestors (down_revision only) among
    ``new`` whose parents are all outside it; () when ``head`` is not new. A chain moves by
    these alone (PRODUCT §4), so they are what the user acts on, not the head."""
    if head not in new:
        return ()
    roots = []
    seen = {head}
    stack = [head]
    while stack:
        rid = stack.pop()
        inside = [p for p in new[rid][0] if p in new]
        if not inside:
            roots.append(rid)
        for parent in inside:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return tuple(sorted(roots))


def fix_command(lock_path: str | None, top: Path | None = None, *, command: str = "fix") -> str:
    """``revgraph fix`` as it must run to resolve the conflict, from the top of the work tree
    (where git runs the driver, and where the user reading its message usually is);
    with ``command``, that subcommand instead (``lock``), for the same project.

    It must take the project the driver took (``lock_owner``), settings included:
    with ``-C DIR`` when that project's root is a folder below the top (a
    monorepo's service, also one whose lock file lives outside it), plain at
    the top. Never a folder whose own configuration would leave out the
    settings the driver used (``[tool.revgraph] protected`` above a service
    folder that has an alembic.ini of its own).
    """
    if not lock_path:
        return f"revgraph {command}"
    top = Path(os.path.abspath(top or Path.cwd()))
    try:
        owner = lock_owner(lock_path, top)
        if owner is not None:
            found = owner.root
        else:  # no project owns it: the one a command started beside it would take
            from revgraph.config import find_project_dir

            found = find_project_dir((top / lock_path).parent)
    except Exception:  # only a message: any doubt keeps the plain command
        return f"revgraph {command}"
    if found is None:
        return f"revgraph {command}"
    relative = os.path.relpath(found, top)
    if relative == "." or relative.startswith(".."):
        return f"revgraph {command}"
    from revgraph.shellwords import shell_word

    return f"revgraph -C {shell_word(Path(relative).as_posix())} {command}"


def fix_where(lock_path: str | None, top: Path | None = None) -> str:
    """Where ``fix_command`` must run, when a plain command started elsewhere would go wrong:
    " at the top of the work tree" when the top's project owns the lock file and a
    command started in the lock file's folder would find another project there (one
    without the top's ``protected``, say), and when the command names a folder below
    the top (``-C services/api``: started in that folder, it would look for another
    one inside it); else ""."""
    if not lock_path:
        return ""
    top = Path(os.path.abspath(top or Path.cwd()))
    try:
        owner = lock_owner(lock_path, top)
        if owner is None:
            return ""
        relative = os.path.relpath(owner.root, top)
        if relative != ".":
            return "" if relative.startswith("..") else " at the top of the work tree"
        from revgraph.config import find_project_dir

        nearest = find_project_dir((top / lock_path).parent)
    except Exception:
        return ""
    return " at the top of the work tree" if nearest is not None and nearest != owner.root else ""


# (top, lock path) -> what ``_find_lock_owner`` found: one driver run asks for its decision
# and for its messages. Emptied when a run starts (``merge_locks``): configs change between runs.
_owners: dict[tuple[str, str], tuple | None] = {}


class LockOwner(NamedTuple):
    """The project whose environment keeps a lock file (``lock_owner``)."""

    root: Path  # the project's root: what ``revgraph -C`` names
    start: Path  # where a command starts to load it (RefSettings reads relative paths from there)
    project: Any  # config.Project; None when its configuration cannot be read
    env: Any  # config.Environment whose lock file it is; None with ``project``


def lock_owner(lock_path: str, top: Path) -> LockOwner | None:
    """The project that owns the lock file ``lock_path`` (relative to ``top``, the top
    of the work tree, as git names it), or None when none does.

    Looked for cheapest first: the project found at the top (what a plain
    ``revgraph`` there loads: the driver's choice since the start, settings
    and all); then each project found from the lock file's folder upward, below
    the top (a monorepo's service: ``backend/alembic.ini``); then the projects
    of the alembic configs a few folders below the top (a service whose
    ``lock_file`` lies outside it: ``lock_file = "../heads.lock"``). A project
    on the way up whose configuration cannot be read stops the search, as
    an owner without environment: its settings (``protected``, say) may be
    meant for the lock file's project, so nothing below it is taken in its
    place, and its command shows the user what is wrong.
    """
    top = Path(os.path.abspath(top))
    key = (str(top), lock_path)
    if key not in _owners:
        _owners[key] = _find_lock_owner(lock_path, top)
    return _owners[key]


def _find_lock_owner(lock_path: str, top: Path) -> LockOwner | None:
    from revgraph.config import find_project_dir, load_project, project_dirs_below
    from revgraph.errors import RevgraphError

    target = (top / lock_path).resolve()
    tried: set[Path] = set()

    def owned_from(folder: Path, start: Path, *, skip_broken: bool = False) -> LockOwner | None:
        tried.add(folder)
        try:
            project = load_project(start)
        except RevgraphError:
            return None if skip_broken else LockOwner(folder, start, None, None)
        env = next((e for e in project.environments if e.lock_file and e.lock_file.resolve() == target), None)
        return LockOwner(project.root, start, project, env) if env is not None else None

    folder = find_project_dir(top)
    if folder is not None:
        found = owned_from(folder, top)  # started at the top, as before (relative paths)
        if found is not None:
            return found
    folder = find_project_dir((top / lock_path).parent)
    while folder is not None and top in folder.parents:
        if folder not in tried:
            found = owned_from(folder, folder)
            if found is not None:
                return found
        folder = find_project_dir(folder.parent)
    for folder in project_dirs_below(top):
        if folder not in tried and top in folder.parents:
            found = owned_from(folder, folder, skip_broken=True)
            if found is not None:
                return found
    return None


def conflict_text(
    ancestor: LockFile, ours: LockFile, theirs: LockFile, ours_raw: str, theirs_raw: str, *,
    newline: str, marker_size: int = 7, fix: str = "revgraph fix", where: str = "", new: tuple = (),
    dangling: tuple = (), lock: str = "revgraph lock", applied: tuple = (),
) -> str:  # fmt: skip
    """A conflict git can show, naming both sides' new heads and the command that resolves it.

    ``new``: (ours', theirs') revisions the other side lacks, id -> (down_revisions,
    message), when the driver read the trees; a head whose new chain is longer than
    itself is then shown with the chain's first revision, the one ``revgraph fix``
    re-points (``c (…), chain from a (…)``). ``where``: where to run ``fix``
    (``fix_where``), when it matters. ``dangling``: (revision id, message, the
    down_revision it names that the merged tree lacks, whether a side deleted that one
    since the merge base), when that is why the merge conflicts (``dangling_of``): the
    text then names them and says to re-point them and run ``lock`` (the same project's
    ``revgraph lock``), not ``fix``, which refuses a dangling reference. ``applied``:
    what HEAD's files tell of the change git applies when git did not say which
    commit it is (``applied_shape``): ("undone", the revisions theirs deletes that
    ours keeps, ours' revisions naming them), a revert; ("present", theirs' new heads
    ours has), a commit applied twice; or ("lacking", the ancestor's heads ours
    lacks), a pick of a commit without the one before it. Not a fork.
    """
    base = _heads_before(ancestor, ours, theirs)
    ours_new = [h for h in ours.heads if h not in base]
    theirs_new = [h for h in theirs.heads if h not in base]
    ours_only, theirs_only = new or (None, None)
    ours_text, ours_chained = _describe(ours.entries, ours_new, ours_only)
    theirs_text, theirs_chained = _describe(theirs.entries, theirs_new, theirs_only)
    chains = ours_chained or theirs_chained
    twice = ids_added_twice(ancestor, ours, theirs)
    if dangling:
        header, resolve = _dangling_text(dangling, lock, where)
    elif applied[:1] == ("undone",):
        header, resolve = _undone_text(*applied[1:], lock, where)
    elif applied[:1] == ("lacking",):
        header, resolve = _lacking_text(applied[1], ancestor, ours, lock, where)
    elif applied[:1] == ("present",):
        header, resolve = _present_text(applied[1], ours, lock, where)
    elif both_began_histories(ancestor, ours, theirs, new):
        # Both sides began a history (the race on a project's first migration): no
        # rebase can move a revision whose down_revision is None; a merge revision joins them.
        header = [
            "# revgraph: both sides added a first migration (down_revision = None); `alembic upgrade",
            "# head` would fail with 'Multiple head revisions are present'.",
        ]
        resolve = [
            f"# Resolve: run `{fix} --strategy merge`{where} (it writes a merge revision joining them and",
            "# rewrites this file), then `git add` it and continue the merge or rebase.",
        ]
    elif twice:
        header = [
            f"# revgraph: both sides added revision {', '.join(twice)}, each in a file of its own;",
            "# alembic would keep one of them and silently never run the other.",
        ]
        resolve = [
            f"# Resolve: run `{fix}`{where} (it gives the revision that has not landed a new id, re-points",
            "# it and rewrites this file), then `git add` it and continue the merge or rebase.",
        ]
    elif not new and _lines_apart(ours, ours_new, theirs, theirs_new):
        # Git named no commit, so the trees were not read: on distinct labelled lines
        # the heads compete only if a merge revision joined those lines on one side.
        ours_lines, theirs_lines = (", ".join(f"`{x}`" for x in _lines(side, ids)) for side, ids in
                                    ((ours, ours_new), (theirs, theirs_new)))  # fmt: skip
        header = [
            f"# revgraph: both sides added a migration, ours on the {ours_lines} line and theirs on {theirs_lines};",
            "# git did not say which commit it applies, so revgraph could not read it to tell whether",
            "# they compete.",
        ]
        resolve = [
            f"# Resolve: run `{fix}`{where} (it moves what has not landed if they compete, and rewrites",
            "# this file), then `git add` it and continue.",
        ]
    else:
        header = [
            "# revgraph: both sides added a migration on the same head; `alembic upgrade head`",
            "# would fail with 'Multiple head revisions are present'.",
        ]
        resolve = [
            f"# Resolve: run `{fix}`{where} (it moves the revision that has not landed and rewrites",
            "# this file), then `git add` it and continue the merge or rebase.",
        ] if not chains else [
            f"# Resolve: run `{fix}`{where} (it re-points the first revision of the chain that has not",
            "# landed and rewrites this file), then `git add` it and continue the merge or rebase.",
        ]  # fmt: skip
    sep = "; " if chains else ", "  # a chain's description holds commas of its own
    lines = [
        *header,
        "#   ours:   " + (sep.join(ours_text) or "(no new revision)"),
        "#   theirs: " + (sep.join(theirs_text) or "(no new revision)"),
        *resolve,
        "<" * marker_size + " ours",
        *[ln for ln in ours_raw.splitlines() if ln.strip() and not ln.startswith("#")],
        "=" * marker_size,
        *[ln for ln in theirs_raw.splitlines() if ln.strip() and not ln.startswith("#")],
        ">" * marker_size + " theirs",
    ]
    return newline.join(lines) + newline


def _lines(lock: LockFile, ids) -> list[str]:
    """The lock file's line labels of the heads ``ids``, in order, once each."""
    wanted = set(ids)
    return list(dict.fromkeys(e.label for e in lock.entries if e.revision in wanted))


def _lines_apart(ours: LockFile, ours_new, theirs: LockFile, theirs_new) -> bool:
    """Whether each side's new heads sit on labelled lines of their own (no line in common,
    no unlabelled ``head`` line): the lock alone cannot say they compete."""
    ours_lines, theirs_lines = set(_lines(ours, ours_new)), set(_lines(theirs, theirs_new))
    return bool(ours_lines) and bool(theirs_lines) and not ours_lines & theirs_lines and "head" not in ours_lines | theirs_lines


def _dangling_text(dangling, then: str, where: str) -> tuple[list[str], list[str]]:
    """The header and Resolve lines of a conflict whose merged tree has dangling down_revisions."""
    deleted = any(d[3] for d in dangling)
    why = "which neither side keeps (one side deleted it since the merge base);" if deleted else "which neither side has;"
    restore = " (or restore the deleted file)" if deleted else ""
    if len(dangling) == 1:
        [(rid, message, parent, _)] = dangling
        header = [f"# revgraph: after this merge, {_named(rid, message)} names down_revision {parent}, {why}"]
        point = f"point {rid}'s down_revision at a revision that exists{restore},"
    else:
        header = ["# revgraph: after this merge, revisions name a down_revision the merged tree lacks:"]
        for rid, message, parent, gone in dangling[:_ROOTS_SHOWN]:
            state = "deleted by one side since the merge base" if gone else "on neither side"
            header.append(f"#   {_named(rid, message)} names {parent} ({state})")
        if len(dangling) > _ROOTS_SHOWN:
            header.append(f"#   and {len(dangling) - _ROOTS_SHOWN} more")
        point = f"point each down_revision at a revision that exists{restore},"
    header.append("# alembic would fail to load the history.")
    resolve = [
        f"# Resolve: {point}",
        f"# then run `{then}`{where}, `git add` this file and continue the merge or rebase.",
    ]
    return header, resolve


def undone_by_theirs(ancestor_heads, theirs_heads, revisions) -> tuple[tuple, tuple]:
    """What theirs takes away that ours keeps: (the revisions gone, ours' revisions naming one).

    A revert of the commit that added a revision (or a pick of such a revert)
    takes the lock back below the ancestor's heads: theirs' new head is a revision
    ours already has. Nothing tells the driver which commit git applies then
    (no ``GITHEAD_``), so ours' revisions (HEAD's, in ``revisions``) say what is
    gone: every ancestor head and what lies below it, less what theirs' heads
    still reach. ((), ()) when theirs' lock did not go back.
    """
    by_id = {r.id: r for r in revisions}
    ancestor_heads, theirs_heads = tuple(ancestor_heads), tuple(theirs_heads)
    new = [h for h in theirs_heads if h not in ancestor_heads]
    if not new or not all(h in by_id for h in (*new, *ancestor_heads)):
        return (), ()

    def reached(heads) -> set[str]:
        seen: set[str] = set()
        stack = list(heads)
        while stack:
            rid = stack.pop()
            if rid not in seen and rid in by_id:
                seen.add(rid)
                stack.extend(by_id[rid].down_revisions)
        return seen

    gone = reached(ancestor_heads) - reached(theirs_heads)
    if not gone:  # theirs moved on to revisions ours has: ``applied_shape`` says "present"
        return (), ()
    named = tuple(r for r in revisions if r.id not in gone and gone.intersection(r.down_revisions))
    return tuple(by_id[rid] for rid in sorted(gone)), named


def applied_shape(ancestor_heads, theirs_heads, revisions) -> tuple:
    """What ours' revisions (HEAD's) tell of the change git applies, when git did not say
    which commit it is: ("undone", gone, named) (``undone_by_theirs``), ("lacking",
    ancestor heads ours lacks) (``lacking_below_theirs``), or () (a fork, say)."""
    gone, named = undone_by_theirs(ancestor_heads, theirs_heads, revisions)
    if gone:
        return ("undone", gone, named)
    present = already_in_ours(ancestor_heads, theirs_heads, revisions)
    if present:
        return ("present", present)
    missing = lacking_below_theirs(ancestor_heads, theirs_heads, revisions)
    return ("lacking", missing) if missing else ()


def already_in_ours(ancestor_heads, theirs_heads, revisions) -> tuple:
    """Theirs' new heads, when ours has every one of them and every ancestor head: a
    commit applied before (picked twice, say), whose revisions ours has built on."""
    by_id = {r.id: r for r in revisions}
    ancestor_heads = tuple(ancestor_heads)
    new = [h for h in theirs_heads if h not in ancestor_heads]
    if not new or not all(h in by_id for h in (*new, *ancestor_heads)):
        return ()
    return tuple(by_id[h] for h in new)


def lacking_below_theirs(ancestor_heads, theirs_heads, revisions) -> tuple[str, ...]:
    """The ancestor's heads that theirs grew from and ours does not have.

    A cherry-pick of a commit whose parent added a revision the pick's
    revision builds on: the ancestor (the picked commit's parent) had that
    revision as a head, theirs replaced it with its own new head, and ours has
    neither. Merged, the new revision would name a down_revision the tree
    lacks. () when ours has every ancestor head, or already has theirs' new one.
    """
    known = {r.id for r in revisions}
    ancestor_heads, theirs_heads = tuple(ancestor_heads), tuple(theirs_heads)
    new = [h for h in theirs_heads if h not in ancestor_heads]
    if not new or any(h in known for h in new):
        return ()
    return tuple(h for h in ancestor_heads if h not in known and h not in theirs_heads)


def _lacking_text(missing, ancestor: LockFile, ours: LockFile, lock: str, where: str) -> tuple[list[str], list[str]]:
    """The header and Resolve lines of a conflict where theirs grows from what ours lacks."""
    messages = {e.revision: e.message for e in ancestor.entries}
    shown = ", ".join(_named(rid, messages.get(rid) or "") for rid in missing[:_ROOTS_SHOWN])
    if len(missing) > _ROOTS_SHOWN:
        shown += f" and {len(missing) - _ROOTS_SHOWN} more"
    first = missing[0]
    target = f"ours' head {ours.heads[0]}" if len(ours.heads) == 1 else "a revision that exists"
    header = [
        f"# revgraph: theirs grows from {shown}, which ours does not have (deleted here, or a",
        "# commit applied without the one before it, by a cherry-pick, a rebase or `git am`?): its",
        "# new revisions would name a down_revision this tree lacks, and alembic would fail to",
        "# load the history.",
    ]
    resolve = [
        f"# Resolve: apply the commit that adds {first} first (abort, then apply both in order), or point",
        f"# what names {first} at {target}; then run `{lock}`{where}, `git add` this file and continue.",
    ]
    return header, resolve


def _undone_text(gone, named, lock: str, where: str) -> tuple[list[str], list[str]]:
    """The header and Resolve lines of a conflict where theirs deletes revisions ours keeps."""
    shown = gone[:_ROOTS_SHOWN]
    more = f" and {len(gone) - _ROOTS_SHOWN} more" if len(gone) > _ROOTS_SHOWN else ""
    header = [
        "# revgraph: theirs deletes " + ("revision " if len(gone) == 1 else "revisions ")
        + ", ".join(_named(r.id, r.message or "") for r in shown) + more + ", which ours keeps",
        "# (a revert of the commit that added it?). A database that ran a migration does not",
        "# notice its file is gone: a new revision undoes it.",
    ]
    for r in named[:_ROOTS_SHOWN]:
        parents = ", ".join(p for p in r.down_revisions if p in {g.id for g in gone})
        header.append(f"#   {_named(r.id, r.message or '')} names {parents}: it would dangle")
    if len(named) > _ROOTS_SHOWN:
        header.append(f"#   and {len(named) - _ROOTS_SHOWN} more would dangle")
    from revgraph.shellwords import git_restore

    paths = [r.path for r in gone if r.path]  # every one: the command restores them
    files, them = ("the file", "it") if len(gone) == 1 else ("the files", "them")
    resolve = [
        f"# Resolve: keep {files} (`{git_restore('HEAD', paths)}`)" if paths
        else f"# Resolve: keep {files} (restore {them} from HEAD)",
        f"# or, if {'it' if len(gone) == 1 else 'they'} never ran anywhere, re-point what names {them}; then run "
        f"`{lock}`{where}, `git add` this file and continue",
        f"# (`git revert --skip`, `git cherry-pick --skip` or `git rebase --skip` when keeping {them} leaves nothing to do).",
    ]
    return header, resolve


def _present_text(present, ours: LockFile, lock: str, where: str) -> tuple[list[str], list[str]]:
    """The header and Resolve lines of a conflict where theirs' new heads are ours already."""
    heads = ", ".join(ours.heads[:_ROOTS_SHOWN]) + (" and more" if len(ours.heads) > _ROOTS_SHOWN else "")
    named = ", ".join(r.id + (f" ({clean_message(r.message)})" if r.message else "") for r in present[:_ROOTS_SHOWN])
    if len(present) > _ROOTS_SHOWN:
        named += f" and {len(present) - _ROOTS_SHOWN} more"
    header = [
        f"# revgraph: theirs' new head {named} is in ours already, below ours' {heads}",
        "# (a commit applied before, picked again?): no head competes.",
    ]
    resolve = [
        f"# Resolve: run `{lock}`{where} (it writes the merged tree's heads), `git add` this file and",
        "# continue (or skip it, `git cherry-pick --skip` or `git rebase --skip`, when nothing else is left).",
    ]
    return header, resolve


def _named(rid: str, message: str) -> str:
    message = clean_message(message) if message else ""
    return f"{rid} ({message})" if message else rid


def ids_added_twice(ancestor: LockFile, ours: LockFile, theirs: LockFile) -> list[str]:
    """Head ids both sides added, each with its own message: two revision files, one id.

    Teams that number revisions (``--rev-id 0005``) get this when two branches
    take the same next number. Both lock files then record the same head, so
    the heads alone looked merged; alembic keeps one of the two files and
    silently never runs the other. The union of the trees decides (RG103).
    """
    known = {e.revision for e in ancestor.entries}
    theirs_message = {e.revision: e.message for e in theirs.entries}
    return sorted(
        {e.revision for e in ours.entries
         if e.revision not in known and e.revision in theirs_message and theirs_message[e.revision] != e.message}
    )  # fmt: skip


def _locks_come_from(commit: str, lock_path: str, ours_b: bytes, theirs_b: bytes, *, strict: bool) -> bool:
    """Whether git merges what the driver was told: ours' lock is HEAD's and theirs' is
    ``commit``'s, where each holds one (one ``git cat-file --batch-check``).

    A told commit outlives its merge: ``GITHEAD_`` passes to the ``git stash apply``
    of ``git merge --autostash``, and to the merge of two merge bases git makes
    first in a criss-cross merge; ``rebase-merge/done`` names an old pick during an
    autostash or a pick at an ``edit`` stop. ``strict``: ``commit`` must hold one.
    """
    import subprocess

    from revgraph.blobid import blob_id, format_of_id

    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch-check"],
            input=f"HEAD:{lock_path}\n{commit}:{lock_path}\n".encode("utf-8", "surrogateescape"),
            capture_output=True,
        )  # fmt: skip
    except OSError:
        return False
    answers = done.stdout.decode("ascii", "replace").splitlines()
    if done.returncode != 0 or len(answers) != 2:
        return False
    for answer, data, required in zip(answers, (ours_b, theirs_b), (False, strict)):
        fields = answer.split()
        if len(fields) != 3 or fields[1] != "blob":
            if required:
                return False
            continue  # nothing there to compare with (the driver called by hand, say)
        if blob_id(data, format_of_id(fields[0])) != fields[0]:
            return False
    return True


def _incoming_commit(git_dir: Path | None) -> tuple[str, str | None] | None:
    """The sha git is merging in, when git tells us (see module docstring), and the
    commit git merges it against when that is not their merge base: a rebase applies
    a picked commit's own change, against its parent (None for a merge)."""
    for key, value in os.environ.items():
        if key.startswith("GITHEAD_") and len(key) in (48, 72):
            return key[len("GITHEAD_"):], None
    if git_dir is not None:
        done = git_dir / "rebase-merge" / "done"
        try:
            last = [ln for ln in done.read_text().splitlines() if ln.strip() and not ln.startswith("#")][-1]
        except (OSError, IndexError):
            return None
        words = last.split("#", 1)[0].split()
        if words and words[0] in ("merge", "m"):
            # `merge [-C <sha> | -c <sha>] <label>` of --rebase-merges: the label's rewritten
            # commit, against the merge base (one label: an octopus is no driver's)
            labels = words[3:] if len(words) > 2 and words[1] in ("-C", "-c") else words[1:]
            return (f"refs/rewritten/{labels[0]}", None) if len(labels) == 1 else None
        # "fixup -C <sha>": options come before the commit
        parts = [part for part in words if not part.startswith("-")]
        if len(parts) >= 2 and parts[0] in ("pick", "p", "edit", "e", "reword", "r", "fixup", "f", "squash", "s"):
            return parts[1], f"{parts[1]}^"
    return None


def _environment(lock_path: str, cwd: Path | None):
    """(repo, environment) whose lock file git is merging, or None (then: a conflict).

    The environment of the project that owns the lock file (``lock_owner``),
    with that project's settings; each side is read with its own config files
    (``sources.refsettings``), found from where that project is loaded.
    """
    from revgraph.sources.gitref import GitRepo

    cwd = cwd or Path.cwd()
    try:
        repo = GitRepo(cwd)
    except Exception:
        return None
    try:
        root = Path(repo.root) if repo.root else cwd
        owner = lock_owner(lock_path, root)
    except BaseException:
        repo.close()
        raise
    if owner is None or owner.env is None:
        repo.close()
        return None
    from revgraph.sources.refsettings import RefSettings

    RefSettings.attach(repo, owner.start)  # each side read with its own settings
    return repo, _as_check_sees_it(owner.project.settings, owner.env)


def _sides_env(repo, env, theirs_sha: str):
    """The environment both sides place their revisions with (``sources.refsettings``: their
    own config files, whatever the working tree's say), or None when the sides differ: the
    fast path compares the two sides' versions folders under one set of names."""
    settings_at = repo.settings_at
    if settings_at is None:
        return env
    ours, theirs = (settings_at(env, side) for side in ("HEAD", theirs_sha))
    return ours if ours == theirs else None


# More heads than any merge could make: RG101 turned off allows them all.
_EVERY_HEAD = 1 << 62


def _as_check_sees_it(settings, env):
    """``env`` with ``allow_heads`` unlimited when the project turns RG101 off
    (``select``/``ignore`` in [tool.revgraph]): the driver then conflicts only
    where ``check`` would fail, as it does for ``allow_heads``."""
    if not settings.select and not settings.ignore:
        return env  # the default set has RG101 (and the rules table is not imported)
    from dataclasses import replace

    from revgraph.checks.registry import enabled_codes
    from revgraph.errors import UsageError

    try:
        enabled = enabled_codes(settings.select, settings.ignore)
    except UsageError:
        return env  # an unknown selector: check refuses to run; the driver stays strict
    return env if "RG101" in enabled else replace(env, allow_heads=_EVERY_HEAD)


def _duplicate_ids(ours, theirs, in_merge_base=None) -> bool:
    """RG103 in the merged tree: an id declared by two files of one side, or by a file of
    each side at different paths both added since the merge base (``in_merge_base``:
    which of the given paths the merge base has; None: it has none of them). The same
    path on both sides is one file, whatever its content."""
    for side in (ours, theirs):
        if len({r.id for r in side.revisions}) != len(side.revisions):
            return True
    ours_at = {r.id: r.path for r in ours.revisions}
    pairs = [(ours_at[r.id], r.path) for r in theirs.revisions if ours_at.get(r.id, r.path) != r.path]
    if not pairs:
        return False
    old = in_merge_base([p for pair in pairs for p in pair]) if in_merge_base is not None else set()
    return any(p not in old and q not in old for p, q in pairs)


def union_of(ours, theirs, *, allow_heads: int | None = None, in_merge_base=None) -> list[LockEntry] | None:
    """The reference decision, from both sides' whole snapshots: the union's heads when healthy, else None.
    (``union_verdict`` says what dangles, too.)

    Healthy: both sides readable, no revision id declared by two files
    (RG103, ``_duplicate_ids``), no dangling reference, no cycle, no branch
    label declared twice or colliding with an id (RG106), and RG101
    (``checks.graph.check_multiple_heads``, with ``allow_heads``) silent on
    the union whichever side is taken as the base: the driver cannot tell
    which side has landed. On an id both sides hold, ours' version wins.
    """
    return union_verdict(ours, theirs, allow_heads=allow_heads, in_merge_base=in_merge_base)[0]


def union_verdict(ours, theirs, *, allow_heads: int | None = None, in_merge_base=None) -> tuple[list[LockEntry] | None, tuple]:
    """``union_of``, and when the union has a dangling down_revision, (revision id, the id
    it names that the union lacks, its message) for each, sorted (``union.Decision.dangling``)."""
    from revgraph.checks.context import CheckContext
    from revgraph.checks.graph import check_multiple_heads
    from revgraph.checks.registry import is_suppressed
    from revgraph.lockfile import entries_for
    from revgraph.model import RevisionGraph, Snapshot

    if ours.problems or theirs.problems:
        return None, ()
    if _duplicate_ids(ours, theirs, in_merge_base):
        return None, ()
    union = {r.id: r for r in ours.revisions}
    for rev in theirs.revisions:
        union.setdefault(rev.id, rev)
    merged = Snapshot(ours.environment, "merge", tuple(union.values()))
    graph = RevisionGraph(merged.revisions)
    down = [d for d in graph.dangling if d.kind == "down"]
    if down:
        return None, tuple(sorted({(d.revision, d.target, union[d.revision].message or "") for d in down}))
    if graph.dangling or graph.cycles or graph.label_problems:
        return None, ()
    for base in (ours, theirs):
        landed = frozenset(r.id for r in base.revisions)
        ctx = CheckContext(ours.environment, merged, base=base, landed=landed, allow_heads=allow_heads)
        # A head marked ``# revgraph: ignore[RG101]`` silences it, as in ``check``.
        if any(not is_suppressed(hit) for hit in check_multiple_heads(ctx)):
            return None, ()
    return entries_for(graph), ()


def _full_union(repo, env, theirs_sha: str, cache=None) -> list[LockEntry] | None:
    """``union_of`` both sides read whole from git (the slow, simple path)."""
    return _full_union_outcome(repo, env, theirs_sha, cache)[0]


def _new_by_side(ours, theirs) -> tuple[dict, dict]:
    """(ours', theirs') revisions the other side lacks, as ``union.Decision.new`` holds
    them (``union.new_by_side`` on every revision of both sides): for the conflict text."""
    from revgraph.gitops.union import fact_of, new_by_side

    ours_facts = [fact_of(r) for r in ours.revisions]
    theirs_facts = [fact_of(r) for r in theirs.revisions]
    return new_by_side(ours_facts, theirs_facts, {f[0] for f in theirs_facts}, {f[0] for f in ours_facts})


def merged_sides(repo, theirs_sha: str, ours, theirs, base: str | None = None):
    """``ours`` and ``theirs`` without the files git's merge deletes: one side deleted them
    since the merge base, the other kept them as they were there (``union.deleted_by_the_other_side``).

    ``base``: what the merge is made against, when not the merge base (a rebase's
    pick: its parent). The union of the sides is the merged tree's revisions only then: a revision
    main reverted stays in a branch that forked before the revert, and taking
    the union would bring it back (hiding, say, a child of it that the branch
    added, whose parent the merged tree no longer has).
    """
    from dataclasses import replace

    from revgraph.gitops.union import deleted_by_the_other_side

    def files(side):
        return {r.path: r for r in (*side.revisions, *side.problems)}

    ours_files, theirs_files = files(ours), files(theirs)

    def lacking(side_files, other_files):
        return [(p.encode("utf-8", "surrogateescape"), (r.blob_id or "").encode())
                for p, r in side_files.items() if p not in other_files and r.blob_id]  # fmt: skip

    theirs_lacks, ours_lacks = lacking(ours_files, theirs_files), lacking(theirs_files, ours_files)
    if not theirs_lacks and not ours_lacks:
        return ours, theirs
    gone_ours, gone_theirs = deleted_by_the_other_side(repo, theirs_sha, ours_lacks, theirs_lacks, base)

    def without(side, gone):
        if not gone:
            return side
        paths = {p.decode("utf-8", "surrogateescape") for p in gone}
        return replace(
            side,
            revisions=tuple(r for r in side.revisions if r.path not in paths),
            problems=tuple(r for r in side.problems if r.path not in paths),
        )

    return without(ours, gone_ours), without(theirs, gone_theirs)


def _full_union_outcome(
    repo, env, theirs_sha: str, cache=None, base: str | None = None
) -> tuple[list[LockEntry] | None, tuple, tuple, bool]:
    """``_full_union``; on a conflict each side's revisions the other lacks (``_new_by_side``);
    on a dangling one what dangles (``dangling_of``), and whether the union had competing
    heads besides (``union.Decision.forks``: then `lock` refuses once it is mended).

    The union is asked again of the sides as the merged tree holds them
    (``merged_sides``): a clean union for its answer, a conflict for what dangles.
    """
    ours = repo.read_ref(env, "HEAD", cache=cache)
    theirs = repo.read_ref(env, theirs_sha, cache=cache)
    entries, dangling = _union_in(repo, env, theirs_sha, ours, theirs, base)
    deleted: frozenset = frozenset()
    forks = False
    if not dangling:  # as the fast path: what the merge deletes may leave a parent missing
        merged = merged_sides(repo, theirs_sha, ours, theirs, base)
        merged_entries, merged_dangling = _union_in(repo, env, theirs_sha, *merged, base)
        # A clean union is asked again as the merged tree holds the sides; a conflict
        # stays one, told as a dangling one when it is that too (`fix` refuses it).
        if entries is not None or merged_dangling:
            forks = entries is None
            before, (ours, theirs) = (ours, theirs), merged
            entries, dangling = merged_entries, merged_dangling
            if dangling:  # a parent the merge drops, most likely: say which
                kept = {r.id for side in (ours, theirs) for r in side.revisions}
                deleted = frozenset(r.id for side in before for r in side.revisions if r.id not in kept)
    return entries, (_new_by_side(ours, theirs) if entries is None else ()), dangling_of(dangling, deleted), forks


def dangling_of(dangling, deleted) -> tuple[tuple[str, str, str, bool], ...]:
    """``union.Decision.dangling`` and ``.deleted`` as ``conflict_text`` takes them:
    (revision id, its message, the down_revision it names that the merged tree lacks,
    whether a side deleted that one since the merge base)."""
    return tuple((rid, message, parent, parent in deleted) for rid, parent, message in dangling)


def _union_in(repo, env, theirs_sha: str, ours, theirs, base: str | None = None) -> tuple[list[LockEntry] | None, tuple]:
    """``union_verdict`` of the two sides, the merge base telling a renamed file from a duplicate."""

    def in_merge_base(paths):
        from revgraph.gitops.union import _in_merge_base

        encoded = [str(p).encode("utf-8", "surrogateescape") for p in paths]
        found = _in_merge_base(repo, theirs_sha, b"", encoded, base)
        return {p for p, e in zip(paths, encoded) if e in found}

    return union_verdict(ours, theirs, allow_heads=env.allow_heads, in_merge_base=in_merge_base)


def full_union_entries(lock_path: str, theirs_sha: str, *, cwd: Path | None = None) -> list[LockEntry] | None:
    """The reference path alone (every file parsed afresh, no cache): what tests compare with."""
    return full_union_outcome(lock_path, theirs_sha, cwd=cwd)[0]


def full_union_outcome(lock_path: str, theirs_sha: str, *, cwd: Path | None = None) -> tuple[list[LockEntry] | None, tuple, tuple, bool]:
    """``full_union_entries`` with what the conflict text learns (``_full_union_outcome``)."""
    _owners.clear()
    found = _environment(lock_path, cwd)
    if found is None:
        return None, (), (), False
    repo, env = found
    with repo:
        return _full_union_outcome(repo, env, theirs_sha)


def fast_decision(lock_path: str, theirs_sha: str, *, cwd: Path | None = None):
    """The fast path alone (``gitops.union``): a Decision, None when no environment owns the lock."""
    from revgraph.gitops.union import decide_in_repo
    from revgraph.sources.cache import cache_dir_for

    _owners.clear()
    found = _environment(lock_path, cwd)
    if found is None:
        return None
    repo, env = found
    with repo:
        return decide_in_repo(repo, _sides_env(repo, env, theirs_sha) or env, theirs_sha, cache_dir=cache_dir_for(repo))


def _union_entries(lock_path: str, theirs_sha: str, *, cwd: Path | None = None, git_dir: Path | None = None) -> list[LockEntry] | None:
    """Heads of ours ∪ theirs when that union is healthy, else None (see ``_union_outcome``)."""
    return _union_outcome(lock_path, theirs_sha, cwd=cwd, git_dir=git_dir)[0]


def _union_outcome(lock_path: str, theirs_sha: str, *, cwd: Path | None = None, git_dir: Path | None = None, base: str | None = None) -> tuple[list[LockEntry] | None, tuple, tuple, bool]:
    """Heads of ours ∪ theirs when that union is healthy, else None; and, for the conflict
    text, what the decision learnt of each side's revisions the other lacks (``union.Decision.new``;
    () when it did not look) and of the merged tree's dangling down_revisions (``dangling_of``).

    ``gitops.union`` decides from what differs between the sides; whatever it
    cannot decide exactly (or any error of its own) goes to the reference,
    which reads both sides whole. With ``git_dir``, git starts reading the
    trees the last run read before the environment is known (``union.start_early``;
    used only if it is this run's read too). ``base``: the commit git merges
    against, when not the merge base (``_incoming_commit``).
    """
    from revgraph.gitops.union import CLEAN, UNDECIDED, remember_early, start_early

    cwd = cwd or Path.cwd()
    early = start_early(git_dir, cwd, lock_path, theirs_sha)
    try:
        found = _environment(lock_path, cwd)
        if found is None:
            return None, (), (), False
        repo, env = found
        with repo:
            from revgraph.gitops.union import decide_in_repo
            from revgraph.sources.cache import cache_dir_for

            cache_dir = cache_dir_for(repo)
            try:
                # Sides that keep their revisions in different places (one moved them and
                # changed alembic.ini) are read whole, each with its own settings, by the reference.
                sides = _sides_env(repo, env, theirs_sha)
                decision = None if sides is None else decide_in_repo(
                    repo, sides, theirs_sha, cache_dir=cache_dir, early=early, base=base
                )
            except Exception:  # e.g. an unknown ref: the reference meets it too, and says so
                decision = None
            if decision is not None:
                remember_early(repo, sides, theirs_sha, cwd, lock_path, early)
            if decision is not None and decision.outcome != UNDECIDED:
                if decision.outcome == CLEAN:
                    return list(decision.entries), (), (), False
                return None, decision.new, dangling_of(decision.dangling, decision.deleted), decision.forks
            from revgraph.sources.cache import ParseCache

            with ParseCache(cache_dir) as cache:
                return _full_union_outcome(repo, env, theirs_sha, cache, base)
    finally:
        if early is not None:
            early.stop()  # unused, or already read: nothing left running


def merge_locks(ancestor_b: bytes, ours_b: bytes, theirs_b: bytes, *, lock_path: str | None = None, git_dir: Path | None = None, marker_size: int = 7) -> tuple[bytes, bool]:
    """The merged lock content and whether it merged cleanly."""
    return _merge_locks(ancestor_b, ours_b, theirs_b, lock_path=lock_path, git_dir=git_dir, marker_size=marker_size)[:2]


def _merge_locks(ancestor_b: bytes, ours_b: bytes, theirs_b: bytes, *, lock_path: str | None = None, git_dir: Path | None = None, marker_size: int = 7) -> tuple[bytes, bool, tuple]:
    """``merge_locks``, and why it conflicts (``()`` when it merged), as ``conflict_text`` tells it:
    ``("dangling", what dangles in the merged tree)`` (``dangling_of``), ``("bases",)``
    (``both_began_histories``), ``("twice", ids)`` (``ids_added_twice``) or ``("fork",)``."""
    _owners.clear()  # a new run: the configuration is read again
    ours_raw = ours_b.decode("utf-8", "replace")
    theirs_raw = theirs_b.decode("utf-8", "replace")
    ancestor, ours, theirs = (parse_lock(b.decode("utf-8", "replace")) for b in (ancestor_b, ours_b, theirs_b))
    newline = detect_newline(ours_b or theirs_b)
    new: tuple = ()  # each side's revisions the other lacks, when the trees were read
    dangling: tuple = ()  # the merged tree's dangling down_revisions, when that is the conflict
    forks = False  # and heads that compete once they are mended: `fix` then, not `lock`
    applied: tuple = ()  # what HEAD's files tell of theirs, when git did not say what it applies
    if not ours.conflicted and not theirs.conflicted:
        if ours.heads == theirs.heads and not ids_added_twice(ancestor, ours, theirs):
            return ours_b, True, ()
        if ours.heads == ancestor.heads and ancestor_b:
            return theirs_b, True, ()
        if theirs.heads == ancestor.heads and ancestor_b:
            return ours_b, True, ()
        incoming = _incoming_commit(git_dir)
        if incoming and lock_path and not _locks_come_from(incoming[0], lock_path, ours_b, theirs_b,
                                                           strict=incoming[1] is not None):  # fmt: skip
            # Not what git merges now (see _locks_come_from): the union of HEAD and that
            # commit is not this merge's, and could drop theirs' heads from a clean lock.
            incoming = None
        if incoming and lock_path:
            try:
                entries, new, dangling, forks = _union_outcome(lock_path, incoming[0], git_dir=git_dir, base=incoming[1])
            except Exception:  # any doubt means a conflict, never a wrong clean merge
                entries = None
            if entries is not None:
                env_name = ours.environment or theirs.environment
                return render_lock(entries, env_name, newline=newline).encode(), True, ()
        elif lock_path:
            applied = _applied_here(lock_path, ancestor, theirs)
    then = "fix" if forks else "lock"  # what runs once a dangling reference is mended
    text = conflict_text(ancestor, ours, theirs, ours_raw, theirs_raw, newline=newline, marker_size=marker_size,
                         fix=fix_command(lock_path), where=fix_where(lock_path), new=new, dangling=dangling,
                         applied=applied, lock=fix_command(lock_path, command=then) if dangling or applied else "revgraph lock")  # fmt: skip
    if dangling:
        why: tuple = ("dangling", dangling, forks)
    elif applied:
        why = applied
    elif both_began_histories(ancestor, ours, theirs, new):
        why = ("bases",)
    else:
        twice = ids_added_twice(ancestor, ours, theirs)
        why = ("twice", twice) if twice else ("fork",)
    return text.encode(), False, why


def _applied_here(lock_path: str, ancestor: LockFile, theirs: LockFile, cwd: Path | None = None) -> tuple:
    """``applied_shape`` against HEAD's revisions, () when they cannot be read."""
    if not any(h not in ancestor.heads for h in theirs.heads):
        return ()
    try:
        found = _environment(lock_path, cwd)
        if found is None:
            return ()
        repo, env = found
        with repo:
            from revgraph.sources.cache import ParseCache, cache_dir_for

            with ParseCache(cache_dir_for(repo)) as cache:
                head = repo.read_ref(env, "HEAD", cache=cache)
    except Exception:  # only the text is at stake: the generic one stays
        return ()
    return applied_shape(ancestor.heads, theirs.heads, head.revisions)


def _merge_as_text(ancestor: str, ours: str, theirs: str, path: str | None, marker_size: int) -> int:
    """A file that is no heads lock file, merged line by line as git's own driver would.

    A ``.gitattributes`` pattern wider than the lock file (``*.lock merge=revgraph``)
    hands this driver ``poetry.lock`` too. Read as a lock file it holds no head on
    any side, so every merge of it looked clean and kept our side: their changes
    were lost without a conflict.
    """
    import subprocess

    name = path or ours
    sys.stderr.write(
        f"revgraph merge-driver: {name} is not a heads lock file (a .gitattributes line gives it "
        "merge=revgraph); merged line by line, as git merges text\n"
    )
    try:
        done = subprocess.run(
            ["git", "merge-file", f"--marker-size={marker_size}", "-L", "ours", "-L", "base", "-L", "theirs",
             ours, ancestor, theirs],
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except OSError as exc:
        sys.stderr.write(f"revgraph merge-driver: cannot run git merge-file: {exc}\n")
        return 2
    return 0 if done.returncode == 0 else 1  # conflicts (their count) or an error: git reports a conflict


def main(argv: list[str]) -> int:
    """Entry point used by ``revgraph merge-driver %O %A %B %P [%L]``."""
    if len(argv) < 3 or argv[0] in ("-h", "--help"):
        sys.stderr.write(
            "usage: revgraph merge-driver ANCESTOR OURS THEIRS [PATH] [MARKER_SIZE]\n"
            "  git calls this for the heads lock file; set up with `revgraph install --merge-driver`.\n"
        )
        return 2 if len(argv) < 3 else 0
    ancestor, ours, theirs = argv[0], argv[1], argv[2]
    lock_path = argv[3] if len(argv) > 3 else None
    try:
        marker_size = int(argv[4]) if len(argv) > 4 else 7
    except ValueError:
        marker_size = 7
    git_dir = None
    env_git_dir = os.environ.get("GIT_DIR")
    if env_git_dir:
        git_dir = Path(env_git_dir)
    else:
        probe = Path.cwd() / ".git"
        if probe.is_dir():
            git_dir = probe
        elif probe.is_file():  # linked worktree: "gitdir: PATH"
            text = probe.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                git_dir = (Path.cwd() / text.split(":", 1)[1].strip()).resolve()
    ours_path = Path(ours)
    if not ours_path.exists():
        sys.stderr.write(f"revgraph merge-driver: {ours}: no such file\n")
        return 2
    if not ours_path.is_file():
        # git hands a temporary regular file; anything else is a hand-made call gone wrong.
        sys.stderr.write(f"revgraph merge-driver: {ours}: not a regular file\n")
        return 2
    sides = _read(ancestor), _read(ours), _read(theirs)
    if not all(is_lock_text(side) for side in sides):
        return _merge_as_text(ancestor, ours, theirs, lock_path, marker_size)
    merged, clean, why = _merge_locks(*sides, lock_path=lock_path, git_dir=git_dir, marker_size=marker_size)
    try:
        _write_atomic(ours_path, merged)
    except OSError as exc:
        sys.stderr.write(f"revgraph merge-driver: cannot write {ours}: {exc.strerror or exc}\n")
        return 2
    if why[:1] == ("bases",):
        sys.stderr.write(
            f"revgraph: {lock_path or 'lock file'}: both sides added a first migration (down_revision = None);"
            f" run `{fix_command(lock_path)} --strategy merge`{fix_where(lock_path)}\n"
        )
    elif why[:1] == ("dangling",):
        dangling = why[1]
        rid, _, parent, gone = dangling[0]
        more = f" (and {len(dangling) - 1} more)" if len(dangling) > 1 else ""
        where = "which one side deleted since the merge base" if gone else "which neither side has"
        sys.stderr.write(
            f"revgraph: {lock_path or 'lock file'}: after this merge {rid} names down_revision {parent}, {where}{more};"
            f" point it at a revision that exists, then run"
            f" `{fix_command(lock_path, command='fix' if why[2] else 'lock')}`{fix_where(lock_path)}\n"
        )
    elif why[:1] == ("present",):
        sys.stderr.write(
            f"revgraph: {lock_path or 'lock file'}: theirs' new head {why[1][0].id} is in ours already (applied"
            f" before?); run `{fix_command(lock_path, command='lock')}`{fix_where(lock_path)}\n"
        )
    elif why[:1] == ("lacking",):
        missing = why[1]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        sys.stderr.write(
            f"revgraph: {lock_path or 'lock file'}: theirs grows from {missing[0]}{more}, which ours does not have"
            " (deleted here, or a pick without the commit before it?); pick that first or re-point what names it, then run"
            f" `{fix_command(lock_path, command='lock')}`{fix_where(lock_path)}\n"
        )
    elif why[:1] == ("undone",):
        gone, named = why[1], why[2]
        more = f" (and {len(gone) - 1} more)" if len(gone) > 1 else ""
        dangles = f"; {named[0].id} names it and would dangle" if named else ""
        sys.stderr.write(
            f"revgraph: {lock_path or 'lock file'}: theirs deletes revision {gone[0].id}{more}, which ours keeps"
            f" (a revert?){dangles}; keep its file or re-point what names it, then run"
            f" `{fix_command(lock_path, command='lock')}`{fix_where(lock_path)}\n"
        )
    elif why:
        what = (
            f"both sides added revision {', '.join(why[1])} (one id, two files);"
            if why[0] == "twice" else "both sides added a migration on the same head;"
        )
        sys.stderr.write(
            f"revgraph: {lock_path or 'lock file'}: {what} run `{fix_command(lock_path)}`{fix_where(lock_path)}\n"
        )
    return 0 if clean else 1
