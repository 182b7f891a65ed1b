"""Edit plans: what a fix would change, as data. Planning never writes.

A plan is the whole answer of a repair strategy: the new bytes of every file
it touches (``edits``), which revisions it re-points (``moves``) and what the
user should know (``notes``); ``left_alone`` repeats the notes that say why a
revision was not moved, so that a caller finding heads still competing after
the plan can give them as the reason. ``fixes.apply.apply_plan`` is the only
writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.fixes.renumber import Renumbered


@dataclass(frozen=True)
class FileEdit:
    """The new content of one file.

    ``path`` is repo-relative POSIX; ``old`` is the content the plan was made
    from (``None``: the file is created), checked again just before writing.
    ``folders_below``, for a created file only: an existing folder
    (repo-relative POSIX) below which the folders missing on the way to the
    file are created: the versions location of a merge revision, as ``alembic
    merge`` creates them for a file_template with sub-folders
    (``%%(year)d/%%(month).2d/...``), or the nearest existing folder above a
    lock file its setting places in a new folder. Without it a missing
    folder is refused.
    """

    path: str
    old: bytes | None
    new: bytes
    folders_below: str | None = None

    @property
    def creates(self) -> bool:
        return self.old is None


@dataclass(frozen=True)
class Move:
    """One revision re-pointed: its ``down_revision`` goes from old to new."""

    revision: str
    old_down: tuple[str, ...]
    new_down: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class EditPlan:
    strategy: str  # "rebase" | "merge"
    edits: tuple[FileEdit, ...] = ()
    moves: tuple[Move, ...] = ()
    notes: tuple[str, ...] = ()
    left_alone: tuple[str, ...] = ()  # a subset of ``notes``
    renumbered: tuple[Renumbered, ...] = ()  # new ids given (``fixes.renumber``), said before the moves

    @property
    def is_empty(self) -> bool:
        return not self.edits

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(edit.path for edit in self.edits)

    def diff(self) -> str:
        """A unified diff of every edit, ``a/`` and ``b/`` prefixed, as git shows it."""
        return "".join(unified_diff(edit) for edit in self.edits)


_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(edit: FileEdit) -> str:
    """The unified diff of one edit; a created file is diffed against /dev/null."""
    import difflib

    old_lines = _lines(edit.old or b"")
    new_lines = _lines(edit.new)
    fromfile = "/dev/null" if edit.old is None else f"a/{edit.path}"
    chunks = difflib.unified_diff(
        old_lines, new_lines, fromfile=fromfile, tofile=f"b/{edit.path}", lineterm="\n"
    )
    out = []
    for line in chunks:
        # difflib leaves a last line without newline glued to the next one;
        # diff and git mark it instead, and `git apply` needs the marker.
        out.append(line if line.endswith("\n") else line + "\n" + _NO_NEWLINE)
    return "".join(out)


def _lines(data: bytes) -> list[str]:
    # Split on "\n" only: str.splitlines would also break at form feeds and
    # U+2028, which diff and git treat as ordinary characters.
    text = data.decode("utf-8", errors="replace")
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]
