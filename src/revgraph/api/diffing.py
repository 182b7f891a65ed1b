"""``diff``: what changed in the revision graph between two refs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Mapping, Sequence

from revgraph.api import Workspace, _try_resolve
from revgraph.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.model import ParseProblem, Revision, Snapshot


@dataclass(frozen=True)
class UnreadableFile:
    """A file of either snapshot that could not be read statically (RG107).

    ``sides``: ``"base"``, ``"head"`` or both, where the file holds this problem.
    ``revision``: the id the *other* snapshot reads from the same path, when
    this one has no revision of that id: the file was edited into something
    unreadable (or mended), so the id is neither added nor removed as far as
    anyone can tell, and the diff does not list it as either.
    """

    problem: "ParseProblem"
    sides: tuple[str, ...]
    revision: str | None = None

    def to_json(self) -> dict:
        p = self.problem
        return {"path": p.path, "line": p.line, "reason": p.reason, "in": list(self.sides), "revision": self.revision}


@dataclass(frozen=True)
class RevisionDiff:
    environment: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    edited: tuple[str, ...]
    repointed: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
    # Ids the newer snapshot declares in more files than the older (RG103), with their paths.
    duplicated: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Files either snapshot could not read: without them the lists above would
    # read as the whole answer when a revision may hide in any of them.
    unreadable: tuple[UnreadableFile, ...] = ()
    # Those of ``edited`` whose change is comments, docstrings or layout only
    # (``parse.fingerprint``), which check (RG203) and audit do not count.
    cosmetic: tuple[str, ...] = ()
    # Ids the newer snapshot declares in fewer files than the older, with the paths gone.
    deduplicated: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def empty(self) -> bool:
        # An unreadable file is not "no revision changes": what it holds is unknown.
        return not (
            self.added or self.removed or self.edited or self.repointed or self.duplicated or self.unreadable
            or self.deduplicated
        )  # fmt: skip

    def to_json(self) -> dict:
        return {
            "environment": self.environment,
            "added": list(self.added),
            "removed": list(self.removed),
            "edited": list(self.edited),
            "cosmetic": list(self.cosmetic),
            "repointed": [
                {"revision": r, "old": list(old), "new": list(new)} for r, old, new in self.repointed
            ],
            "duplicated": [{"revision": r, "paths": list(paths)} for r, paths in self.duplicated],
            "deduplicated": [{"revision": r, "removed": list(paths)} for r, paths in self.deduplicated],
            "unreadable": [u.to_json() for u in self.unreadable],
        }


def diff_snapshots(old: Snapshot, new: Snapshot) -> RevisionDiff:
    """Revision-level diff: pure.

    An id the newer snapshot declares in more files than the older one is
    ``duplicated`` (both files listed), not "edited": which copy to compare
    with the old one would be a guess. An id whose file the other snapshot
    holds but cannot read is neither added nor removed: it goes with that
    file in ``unreadable``.
    """
    a = {r.id: r for r in old.revisions}
    b = {r.id: r for r in new.revisions}
    unreadable = _unreadable_files(old, new, a, b)
    unknown = {u.revision for u in unreadable}
    added = tuple(sorted(set(b) - set(a) - unknown))
    removed = tuple(sorted(set(a) - set(b) - unknown))
    old_paths, new_paths = _by_id(old, "path"), _by_id(new, "path")
    duplicated = tuple(
        (rid, tuple(sorted(paths))) for rid, paths in sorted(new_paths.items())
        if len(paths) > 1 and len(paths) > len(old_paths.get(rid, ()))
    )  # fmt: skip
    twice = {rid for rid, _ in duplicated}
    # Every file of an id, not the one a map by id keeps: an edit in the other copy counts too.
    old_blobs, new_blobs = _by_id(old, "blob_id"), _by_id(new, "blob_id")
    old_files: dict[str, list] = {}
    for r in old.revisions:
        old_files.setdefault(r.id, []).append(r)
    repointed = []
    edited = []
    deduplicated = []
    for rid in sorted(set(a) & set(b) - twice):
        fewer = len(new_paths[rid]) < len(old_paths[rid])
        if fewer:
            # One of an id's files removed (RG103 mended): the file left is compared
            # with its own old self, not with whichever old copy a map by id kept (a
            # tester: "r re-pointed: c -> b" when r_2.py, the copy on c, was deleted).
            was = _old_self(old_files[rid], b[rid])
            gone = tuple(sorted(set(old_paths[rid]) - set(new_paths[rid]) - {was.path}))
            deduplicated.append((rid, gone))
        else:
            was = a[rid]
        if set(was.down_revisions) != set(b[rid].down_revisions):  # a merge's parents are a set
            repointed.append((rid, was.down_revisions, b[rid].down_revisions))
        elif fewer and set(new_blobs[rid]) - set(old_blobs[rid]):
            edited.append(rid)
        elif not fewer and sorted(old_blobs[rid], key=str) != sorted(new_blobs[rid], key=str):
            edited.append(rid)  # (a moved file is no edit)
    return RevisionDiff(
        new.environment, added, removed, tuple(edited), tuple(repointed), duplicated, unreadable,
        deduplicated=tuple(deduplicated),
    )  # fmt: skip


def _old_self(copies: list, now):
    """Which of an id's old files ``now`` is: the one at its path, else (renamed) the one
    with its content, else the one with its parents, else the last (a map by id's)."""
    for same in (
        lambda r: r.path == now.path,
        lambda r: r.blob_id is not None and r.blob_id == now.blob_id,
        lambda r: set(r.down_revisions) == set(now.down_revisions),
    ):
        found = next((r for r in copies if same(r)), None)
        if found is not None:
            return found
    return copies[-1]


def _unreadable_files(
    old: Snapshot, new: Snapshot, a: Mapping[str, "Revision"], b: Mapping[str, "Revision"]
) -> tuple[UnreadableFile, ...]:
    """Each snapshot's unreadable files, one entry per problem (the same one on both sides once)."""
    sides: dict[tuple[str, int, str], tuple["ParseProblem", list[str]]] = {}
    for side, snap in (("base", old), ("head", new)):
        for problem in snap.problems:
            sides.setdefault((problem.path, problem.line, problem.reason), (problem, []))[1].append(side)
    # The id the other snapshot reads from that very path, when this one lacks it.
    by_path = {"base": {r.path: r.id for r in new.revisions if r.id not in a},
               "head": {r.path: r.id for r in old.revisions if r.id not in b}}  # fmt: skip
    out = []
    for (path, _, _), (problem, where) in sorted(sides.items()):
        revision = by_path[where[0]].get(path) if len(where) == 1 else None
        out.append(UnreadableFile(problem, tuple(where), revision))
    return tuple(out)


def _by_id(snap: Snapshot, field: str) -> dict[str, list]:
    """Each id's ``field`` (``path``, ``blob_id``) in every file that declares it, in file order."""
    grouped: dict[str, list] = {}
    for rev in snap.revisions:
        grouped.setdefault(rev.id, []).append(getattr(rev, field))
    return grouped


def diff(ws: Workspace, old_ref: str, new_ref: str | None = None) -> list[RevisionDiff]:
    out = []
    for env in ws.environments:
        old = ws.snapshot(env, old_ref)
        new = ws.snapshot(env, new_ref)
        found = diff_snapshots(old, new)
        also = _repointed_and_edited(ws, old, new, found)
        if also:
            found = replace(found, edited=tuple(sorted({*found.edited, *also})))
        cosmetic = _cosmetic_edits(ws, old, new, [rid for rid in found.edited if rid not in also])
        if cosmetic:
            found = replace(found, cosmetic=cosmetic)
        out.append(found)
    return out


def _cosmetic_edits(ws: Workspace, old: Snapshot, new: Snapshot, edited: list[str]) -> tuple[str, ...]:
    """Those of ``edited`` whose files differ in comments, docstrings or layout only.

    QA: diff called a comment added to a landed revision "edited" where check and
    audit, which judge what a change does, say nothing; it still lists it (the
    file did change), and says how little.
    """
    if not edited:
        return ()
    from revgraph.api.checking import _revision_bytes
    from revgraph.parse import fingerprint

    a = {r.id: r for r in old.revisions}
    b = {r.id: r for r in new.revisions}
    # An id declared by several files: which one changed how is not one answer (review:
    # the code edit was in one file, a comment in the other, and "comments only" was said).
    old_paths, new_paths = _by_id(old, "path"), _by_id(new, "path")
    found = []
    for rid in edited:
        if len(old_paths.get(rid, ())) + len(new_paths.get(rid, ())) > 2:
            continue
        old_bytes, new_bytes = _revision_bytes(ws, old, a[rid]), _revision_bytes(ws, new, b[rid])
        if old_bytes is not None and new_bytes is not None and fingerprint(old_bytes) == fingerprint(new_bytes):
            found.append(rid)
    return tuple(found)


def _repointed_and_edited(ws: Workspace, old: Snapshot, new: Snapshot, found: RevisionDiff) -> list[str]:
    """The re-pointed revisions whose files changed beyond the re-point (QA: such a
    revision was listed re-pointed only, while check reports RG201 and RG203).

    ``diff_snapshots`` is pure and has no bytes; the few re-pointed files are read
    here, and the new one compared with its old parents put back (as RG203 does).
    """
    if not found.repointed:
        return []
    from revgraph.api.checking import _revision_bytes, _with_parents_of

    a = {r.id: r for r in old.revisions}
    b = {r.id: r for r in new.revisions}
    edited = []
    for rid, _, _ in found.repointed:
        old_bytes, new_bytes = _revision_bytes(ws, old, a[rid]), _revision_bytes(ws, new, b[rid])
        if old_bytes is None or new_bytes is None:
            continue  # unknown: listed as what is certain, re-pointed
        if _with_parents_of(new_bytes, b[rid], old_bytes, a[rid]) != old_bytes:
            edited.append(rid)
    return edited


def landing_snapshot(ws: Workspace, env: Environment, base_sha: str, ref: str, *, label: str) -> Snapshot:
    """``env``'s revisions once ``ref`` lands on the commit ``base_sha``: the merge git
    would make (``git merge-tree``), predicted as ``check`` predicts HEAD's, so what
    base changed since ``ref`` forked (a reverted revision) stays changed."""
    from revgraph.sources.merged import predict_merge

    repo = ws.repo("collisions")
    return predict_merge(repo, env, base_sha, ref, label=label, cache=ws.cache, worktree=False)


def matching_refs(ws: Workspace, patterns: Sequence[str]) -> list[str]:
    """Expand ref globs (``origin/feature/*``) against the repository's refs."""
    repo = ws.repo("collisions")
    refs: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            found = repo.list_refs(pattern)
            if not found:
                raise UsageError(f"no ref matches {pattern!r}")
            refs.extend(found)
        else:
            if not _try_resolve(repo, pattern):
                raise repo.unknown_ref_error(pattern, commit_required=True)
            refs.append(pattern)
    return list(dict.fromkeys(refs))
