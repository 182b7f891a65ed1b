"""A new id for a revision that took one base has already landed (RG103 across the sides).

Teams that number revisions (``--rev-id 0005``) collide on the next number: a
branch and base each add ``0005`` in a file of its own, and alembic keeps one
of them and silently never runs the other. Base's has landed, so the branch's
takes a new id: the next number in the same width when ids are numbers, else a
fresh alembic id. Its ``revision =`` literal and docstring ``Revision ID:``
change, and so does every ``down_revision`` / ``depends_on`` of a new revision
that names it (they were written on the branch, against the branch's file);
the rebase then re-points it as any other new revision. The file keeps its
name: the note gives the ``git mv`` (RG403 would too).

Pure: graph and bytes in, new bytes out. Only when which copy landed is certain:
base has exactly one file with that id (or, when base has none, exactly one of
HEAD's copies is on a landed ref: the other side of the merge or rebase under
way, a protected branch, ``--onto``), HEAD exactly two (that one, and one
elsewhere), the other is in no other landed ref, and no ``--db`` has run the
id (it cannot tell which file).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Callable, Container, Iterable, Mapping

from revgraph.checks.graph import branch_copy
from revgraph.fixes.textedit import literal_quote, prevailing_quote, quote_string, replace_spans, span_bytes
from revgraph.model import Revision, RevisionGraph, Snapshot
from revgraph.shellwords import shell_word


@dataclass(frozen=True)
class Renumbered:
    old: str
    new: str
    path: str  # the file that took the new id
    landed_path: str  # base's file, which keeps the id

    @property
    def renamed_path(self) -> str | None:
        """The file's name with the new id where the old one was; None when the name lacks it."""
        name = posixpath.basename(self.path)
        if self.old not in name:
            return None
        return posixpath.join(posixpath.dirname(self.path), name.replace(self.old, self.new, 1))

    def note(self, *, renamed: bool = False, here: Callable[[str], str] = str) -> str:
        """What fix says; ``renamed``: fix has renamed the file itself (during a merge);
        ``here``: a path as the command it offers names it (``findings.command_path``)."""
        text = f"new id {self.new} for {self.path} ({self.old} is {self.landed_path}, which has landed)"
        target = self.renamed_path
        if target is not None and renamed:
            text += f"; renamed to {target} (git mv)"
        elif target is not None:
            text += f"; rename it: git mv -- {shell_word(here(self.path))} {shell_word(here(target))}"
        return text


@dataclass(frozen=True)
class RenumberPlan:
    files: Mapping[str, bytes]  # path -> new bytes
    renumbered: tuple[Renumbered, ...]
    originals: Mapping[str, bytes] = field(default_factory=dict)  # path -> the bytes ``files`` were made from


def plan_renumber(
    graph: RevisionGraph,
    revisions: tuple[Revision, ...],
    *,
    base: Snapshot | None,
    landed: frozenset[str],
    read: Callable[[Revision], bytes | None],
    fresh_id: Callable[[], str],
    in_use: Iterable[str] = (),
    landed_files: Container[tuple[str, str]] = frozenset(),
    applied: Container[str] = frozenset(),
) -> RenumberPlan:
    """New ids for HEAD's copies of ids base has landed at another path; empty when none
    can be given safely (the rebase then refuses RG103 as before).

    ``revisions``: every file of HEAD (the graph keeps one per id). ``read``:
    a revision's current bytes. ``fresh_id``: alembic's ``rev_id``. ``in_use``:
    ids a new one must not take beyond HEAD's and base's (in a rebase, those of
    the commits still to replay: the branch's next number is taken).
    ``landed_files``: ``(id, path)`` of the files that landed (base's, and those
    of protected refs, ``--onto`` and the other side of the operation): a copy
    found there keeps its id. ``applied``: ids a database has run, where which file
    ran cannot be told: none of those is renumbered.
    """
    if base is None or not graph.duplicates:
        return RenumberPlan({}, ())
    base_files: dict[str, list[Revision]] = {}
    for rev in base.revisions:
        base_files.setdefault(rev.id, []).append(rev)
    taken = {rev.id for rev in revisions} | set(base_files) | set(in_use)
    done: list[Renumbered] = []
    for rid in sorted(graph.duplicates):
        copies = graph.duplicates[rid]
        # Base's file with the id; else the one copy a landed ref holds (`landed_files`:
        # the other side of the merge or rebase under way, a protected branch, --onto).
        landed_copies = base_files.get(rid) or [rev for rev in copies if (rid, rev.path) in landed_files]
        ours = branch_copy(copies, landed_copies)
        if ours is None or rid not in landed or "revision" not in ours.spans:
            continue
        if rid in applied or (rid, ours.path) in landed_files:
            continue  # the branch's file ran somewhere, or landed on a ref that keeps it
        new_id = _next_id(rid, taken, fresh_id)
        taken.add(new_id)
        done.append(Renumbered(rid, new_id, ours.path, landed_copies[0].path))
    if not done:
        return RenumberPlan({}, ())
    # Every replacement of a file is found in its original bytes and made at once
    # (the spans are offsets into those bytes). New revisions naming a renumbered
    # id were written against the branch's file, so they follow it.
    renamed = {r.old: r.new for r in done}
    new_id_of = {r.path: r.new for r in done}
    files: dict[str, bytes] = {}
    originals: dict[str, bytes] = {}
    for rev in revisions:
        own = new_id_of.get(rev.path)
        names_one = bool((set(rev.down_revisions) | set(rev.depends_on)) & renamed.keys())
        if own is None and (rev.id in landed or not names_one):
            continue  # a landed revision naming the id means base's file
        data = read(rev)
        if data is None:
            if own is not None:
                return RenumberPlan({}, ())  # the file that needs the new id cannot be read
            continue
        files[rev.path] = _rewrite(data, rev, own, renamed if names_one else {})
        originals[rev.path] = data
    return RenumberPlan(files, tuple(done), originals)


def _next_id(old: str, taken: set[str], fresh_id: Callable[[], str]) -> str:
    """The next free number in ``old``'s width when ids are numbers, else a fresh alembic id."""
    if old.isdigit() and old.isascii():
        numbers = [int(rid) for rid in taken if rid.isdigit() and rid.isascii()]
        candidate = max(numbers, default=int(old)) + 1
        while str(candidate).zfill(len(old)) in taken:
            candidate += 1
        return str(candidate).zfill(len(old))
    new = fresh_id()
    while new in taken:
        new = fresh_id()
    return new


def _rewrite(data: bytes, rev: Revision, own: str | None, renamed: Mapping[str, str]) -> bytes:
    """``data`` with its ``revision =`` literal and docstring ``Revision ID:`` set to ``own``
    (when given), and each renamed id in its ``down_revision`` / ``depends_on`` literals and
    the docstring's ``Revises:`` replaced, quotes and layout kept."""
    replacements = []
    if own is not None:
        span = rev.spans["revision"]
        quote = literal_quote(span_bytes(data, span)) or prevailing_quote(data, rev.spans)
        replacements.append((span.start, span.end, quote_string(own, quote).encode("utf-8")))
        doc = rev.spans.get("revision_id_line")
        if doc is not None:
            end = doc.end
            while end > doc.start and data[end - 1 : end] in (b"\r", b"\n"):
                end -= 1
            replacements.append((doc.start, end, own.encode("utf-8")))
    for key in ("down_revision", "depends_on", "revises_line"):
        span = rev.spans.get(key)
        if span is None:
            continue
        text = span_bytes(data, span)
        new = text
        for old, to in renamed.items():
            new = _replace_token(new, old.encode("utf-8"), to.encode("utf-8"))
        if new != text:
            replacements.append((span.start, span.end, new))
    return replace_spans(data, replacements)


def _replace_token(text: bytes, old: bytes, new: bytes) -> bytes:
    """``old`` replaced where it stands as a whole id (quoted, or between separators)."""
    return re.sub(rb"(?<![\w])" + re.escape(old) + rb"(?![\w])", new, text)
